import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { compileDiffSql, type ChangeEngine, type ChangeFile, type ChangeSet, type DiffRequest } from '../../core/destinations/change-engine';
import type { RowReader } from '../../core/ports/destination';
import type { ObjectStore } from '../../core/ports/object-store';
import { quoteIdent, sqlString, toNumber } from './duckdb-sql';
import { localFiles, type LocalFiles } from './local-files';

export interface DuckDbDestinationEngineOptions {
  readonly store: ObjectStore;
  /** Scratch folder parent; default the system temp folder. */
  readonly workDir?: string;
  /** DuckDB memory_limit for diffs, e.g. '1GB'; past it DuckDB spills to the scratch folder. Default 1GB. */
  readonly memoryLimit?: string;
  readonly threads?: number;
}

/**
 * The embedded engine's side of destinations: change sets between two drops (COPY of the diff
 * queries straight to Parquet: rows never pass through Node), and drop rows read back as JSON
 * objects in batches for API destinations. Its own DuckDB instance, separate from the feed engine,
 * which is confined to the sources and staging.
 */
export class DuckDbDestinationEngine implements ChangeEngine, RowReader {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly files: LocalFiles,
    private readonly workDir: string,
  ) {}

  static async open(options: DuckDbDestinationEngineOptions): Promise<DuckDbDestinationEngine> {
    const workDir = await mkdtemp(join(options.workDir ?? tmpdir(), `duckdb-diff-${process.pid}-`));
    const config: Record<string, string> = {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      memory_limit: options.memoryLimit ?? '1GB',
      temp_directory: join(workDir, 'spill'),
      // Ordered output (stable batches on every attempt) needs order kept through COPY.
      preserve_insertion_order: 'true',
    };
    if (options.threads) config.threads = String(options.threads);
    const instance = await DuckDBInstance.create(join(workDir, 'diff.duckdb'), config);
    const connection = await instance.connect();
    await connection.run(`SET TimeZone = 'UTC'`);
    return new DuckDbDestinationEngine(instance, connection, localFiles(options.store, workDir), workDir);
  }

  private async relation(keys: readonly string[]): Promise<string> {
    const paths = await Promise.all(keys.map((k) => this.files.readablePath(k)));
    return `read_parquet([${paths.map(sqlString).join(', ')}])`;
  }

  async diff(request: DiffRequest): Promise<ChangeSet> {
    const cur = await this.relation(request.current);
    // A first sync diffs against nothing: every row is an insert.
    const base = request.base && request.base.length ? await this.relation(request.base) : `(SELECT * FROM ${cur} LIMIT 0)`;
    const sql = compileDiffSql(request.columns, request.primaryKey, quoteIdent, { base, cur });
    const dup = await this.connection.runAndReadAll(sql.duplicateKeys);
    const duplicates = toNumber(dup.getRowObjects()[0]?.duplicates) ?? 0;
    if (duplicates > 0)
      throw new Error(
        `primary key (${request.primaryKey.join(', ')}) is not unique in the drop: ${duplicates} key(s) occur more than once; fix the feed's query or its destination's primaryKey`,
      );
    const write = async (name: string, query: string): Promise<ChangeFile> => {
      const key = `${request.outPrefix}${name}.parquet`;
      const path = await this.files.writablePath(key);
      const result = await this.connection.run(`COPY (${query}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`);
      const rows = Number(result.rowsChanged);
      await this.files.commit(key);
      return { key, rows, bytes: (await stat(path)).size };
    };
    return { inserts: await write('inserts', sql.inserts), updates: await write('updates', sql.updates), deletes: await write('deletes', sql.deletes) };
  }

  async *rows(keys: readonly string[], options: { readonly batchRows: number; readonly orderBy: readonly string[] }): AsyncIterable<Record<string, unknown>[]> {
    if (keys.length === 0) return;
    const rel = await this.relation(keys);
    const described = await this.connection.runAndReadAll(`DESCRIBE SELECT * FROM ${rel}`);
    const columns = described.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type).toUpperCase() }));
    // JSON types as JSON: numbers and booleans stay native; timestamps ISO-8601 UTC; decimals and
    // 64-bit integers as numbers only where exact.
    const fields = columns.map(({ name, type }) => `${sqlString(name)}: ${jsonExpr(quoteIdent(name), type)}`).join(', ');
    const order = options.orderBy.length ? ` ORDER BY ${options.orderBy.map(quoteIdent).join(', ')}` : '';
    const result = await this.connection.stream(`SELECT to_json({${fields}})::VARCHAR AS j FROM ${rel}${order}`);
    let batch: Record<string, unknown>[] = [];
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const [j] of chunk.getRows()) {
        batch.push(JSON.parse(String(j)) as Record<string, unknown>);
        if (batch.length >= options.batchRows) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length) yield batch;
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.workDir, { recursive: true, force: true });
  }
}

function jsonExpr(c: string, type: string): string {
  if (type === 'TIMESTAMP WITH TIME ZONE') return `strftime(timezone('UTC', ${c}), '%Y-%m-%dT%H:%M:%S.%fZ')`;
  if (type.startsWith('TIMESTAMP')) return `strftime(${c}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%fZ')`;
  if (type === 'DATE') return `strftime(${c}, '%Y-%m-%d')`;
  // Past 2^53 a JSON number loses digits in most readers: such values go as strings.
  if (type === 'BIGINT' || type === 'HUGEINT' || type === 'UBIGINT')
    return `CASE WHEN abs(${c}::HUGEINT) <= 9007199254740991 THEN to_json(${c}) ELSE to_json(${c}::VARCHAR) END`;
  if (type.startsWith('DECIMAL')) return `${c}::VARCHAR`;
  return c;
}
