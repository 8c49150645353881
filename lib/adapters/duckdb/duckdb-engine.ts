import { copyFile, link, mkdtemp, rm, mkdir } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement, timestampValue } from '@duckdb/node-api';
import { QueryFailedError } from '../../core/errors';
import { quoteIdent, toNumber } from '../../core/checks/sql';
import type { CsvDialect } from '../../core/feed/feed-schema';
import type {
  ColumnSchema,
  ExportedFile,
  ParquetExport,
  QueryEngine,
  QueryParameter,
  StageRequest,
  StagedTable,
} from '../../ports/query-engine';
import { csvCopySql, csvDeclineReason } from './duckdb-csv';
import { canonicalText, sqlString } from './duckdb-sql';

export interface LocalSource {
  /** Absolute path or glob. */
  readonly path: string;
  readonly format: 'csv' | 'parquet';
}

export interface DuckDbEngineOptions {
  /** Tables the feed SQL can read: name → files. Created as views, so a source is scanned only at stage time. */
  readonly sources?: Readonly<Record<string, LocalSource>>;
  /**
   * Where the engine makes its own work folder (staging database, staged Parquet, spill files),
   * removed on close. Staged data lives on disk, not in memory, so a large extract does not grow
   * the process. Default: the system temp folder.
   */
  readonly workDir?: string;
  /** DuckDB memory_limit, e.g. '2GB'. Default: 512 MB per thread, at most DuckDB's own default (80% of RAM). */
  readonly memoryLimit?: string;
  readonly threads?: number;
}

/** The embedded engine: DuckDB runs the feed SQL, the checks, and writes Parquet. */
export class DuckDbEngine implements QueryEngine {
  readonly name = 'duckdb' as const;
  /** Staged results held as Parquet files behind a view: view name → file. */
  private readonly parquetStaged = new Map<string, string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly workDir: string,
  ) {}

  static async open(options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    // A folder of its own, inside the given one (on the store's disk, so staged files can be
    // linked into the drop) or the system temp folder; removed on close.
    const parent = options.workDir ?? tmpdir();
    await mkdir(parent, { recursive: true });
    const workDir = await mkdtemp(join(parent, 'duckdb-'));
    // No extension downloads: everything needed (parquet, json, icu) is built in, and there may be no network.
    const config: Record<string, string> = { autoinstall_known_extensions: 'false' };
    config.memory_limit = options.memoryLimit ?? defaultMemoryLimit(options.threads);
    if (options.threads) config.threads = String(options.threads);
    config.temp_directory = join(workDir, 'spill');
    const instance = await DuckDBInstance.create(join(workDir, 'staging.duckdb'), config);
    const connection = await instance.connect();
    // Timestamps are bound and rendered in UTC whatever the machine's zone (ICU is loaded by now).
    await connection.run(`SET TimeZone = 'UTC'`);
    // The staged table is written once, read a few times, then dropped. In the benchmark the plain
    // dictionary analysis cost a third of staging's CPU for a file no smaller (dict_fsst covers
    // it). Only an optimisation: a DuckDB that no longer knows the method keeps its defaults.
    await connection.run(`SET disabled_compression_methods = 'dictionary'`).catch(() => undefined);
    const engine = new DuckDbEngine(instance, connection, workDir);
    for (const [name, source] of Object.entries(options.sources ?? {})) {
      await engine.registerSource(name, source);
    }
    return engine;
  }

  private async registerSource(name: string, source: LocalSource): Promise<void> {
    const reader =
      source.format === 'parquet'
        ? `read_parquet(${sqlString(source.path)})`
        : // Quoted empty strings stay empty strings, not NULL.
          `read_csv(${sqlString(source.path)}, header = true, allow_quoted_nulls = false)`;
    try {
      await this.connection.run(`CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT * FROM ${reader}`);
    } catch (error) {
      throw new QueryFailedError(`source "${name}" (${source.path}) cannot be read as ${source.format}: ${messageOf(error).split('\n')[0]}; fix its path under sources: in the project file`, { cause: error });
    }
  }

  /**
   * Runs the feed query once. When every result type survives Parquet unchanged, the result is
   * staged as a zstd Parquet file (as Athena stages with CTAS) behind a view: writing it is the
   * one pass over the source, and a Parquet drop with the default options is that very file.
   * Otherwise (HUGEINT, ENUM, STRUCT, …) it is staged as a table in the staging database.
   */
  async stage(request: StageRequest): Promise<StagedTable> {
    const table = quoteIdent(stagingTableName(request.runId));
    const sql = stripTrailingSemicolons(request.sql);
    await this.dropStaged({ table } as StagedTable);
    const types = await this.resultTypes(sql);
    if (types && types.every(parquetKeepsType)) {
      const staged = await this.stageAsParquet(table, sql, types, request);
      if (staged) return staged;
    }
    await this.runStaging(`CREATE OR REPLACE TABLE ${table} AS ${sql}`, request.parameters);
    const [count] = await this.query(`SELECT count(*) AS n FROM ${table}`);
    return { engine: this.name, table, rowCount: toNumber(count.n) ?? 0, columns: await this.describe(table), executionId: null, bytesScanned: null };
  }

  private async stageAsParquet(table: string, sql: string, expected: readonly string[], request: StageRequest): Promise<StagedTable | undefined> {
    const dir = join(this.workDir, 'staged');
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${stagingTableName(request.runId)}.parquet`);
    // Newlines keep a trailing `-- comment` in the feed SQL from swallowing the rest of the statement.
    const rows = await this.runStaging(`COPY (\n${sql}\n) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`, request.parameters);
    await this.connection.run(`CREATE OR REPLACE VIEW ${table} AS SELECT * FROM read_parquet(${sqlString(path)})`);
    this.parquetStaged.set(table, path);
    const columns = await this.describe(table);
    if (columns.some((c, i) => c.type !== expected[i])) {
      // A type the pre-check let through changed on the way: stage as a table instead.
      await this.dropStaged({ table } as StagedTable);
      return undefined;
    }
    return { engine: this.name, table, rowCount: rows, columns, executionId: null, bytesScanned: null };
  }

  /** Column types of the query's result, from preparing it (nothing runs); undefined if unknown. */
  private async resultTypes(sql: string): Promise<string[] | undefined> {
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await this.connection.prepare(sql);
    } catch (error) {
      throw new QueryFailedError(`the feed query does not compile on DuckDB: ${messageOf(error)}`, { cause: error });
    }
    try {
      return Array.from({ length: prepared.columnCount }, (_, i) => prepared.columnType(i).toString());
    } catch {
      return undefined; // a type that depends on a parameter: decided at run time
    } finally {
      prepared.destroySync();
    }
  }

  /** Runs a statement over the feed query with its parameters bound; returns the rows it reports. */
  private async runStaging(statement: string, parameters: readonly QueryParameter[]): Promise<number> {
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await this.connection.prepare(statement);
    } catch (error) {
      throw new QueryFailedError(`the feed query does not compile on DuckDB: ${messageOf(error)}`, { cause: error });
    }
    try {
      bindParameters(prepared, parameters);
      const result = await prepared.runAndReadAll();
      return toNumber(result.getRows()[0]?.[0]) ?? 0;
    } catch (error) {
      if (error instanceof QueryFailedError) throw error;
      throw new QueryFailedError(`the feed query failed on DuckDB: ${messageOf(error)}`, { cause: error });
    } finally {
      prepared.destroySync();
    }
  }

  private async describe(table: string): Promise<ColumnSchema[]> {
    const rows = await this.query(`DESCRIBE ${table}`);
    return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type), nullable: r.null !== 'NO' }));
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    try {
      const reader = await this.connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    } catch (error) {
      throw new QueryFailedError(messageOf(error), { cause: error });
    }
  }

  async *streamText(table: StagedTable, batchRows = 2048): AsyncIterable<(string | null)[][]> {
    const select = table.columns.map((c) => `${canonicalText(c)} AS ${quoteIdent(c.name)}`).join(', ');
    const result = await this.connection.stream(`SELECT ${select || '1'} FROM ${table.table}`);
    let batch: (string | null)[][] = [];
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      batch.push(...(chunk.getRows() as (string | null)[][]));
      if (batch.length >= batchRows) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  async exportParquet(table: StagedTable, options: ParquetExport): Promise<ExportedFile[]> {
    await mkdir(options.dir, { recursive: true });
    const stagedFile = this.parquetStaged.get(table.table);
    if (stagedFile && options.compression === 'zstd' && !options.maxRowsPerFile) {
      // The staged file is exactly what this COPY would write: hand over a hard link, no second pass.
      const path = join(options.dir, 'part-00000.parquet');
      await rm(path, { force: true });
      await link(stagedFile, path).catch(() => copyFile(stagedFile, path));
      return [{ path, rows: table.rowCount }];
    }
    const codec = options.compression === 'uncompressed' ? 'uncompressed' : options.compression;
    const files: ExportedFile[] = [];
    for (const [i, source] of (await this.partSources(table, options.maxRowsPerFile)).entries()) {
      const path = join(options.dir, `part-${String(i).padStart(5, '0')}.parquet`);
      await this.connection.run(`COPY (SELECT * FROM ${source}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION ${codec})`);
      const [meta] = await this.query(`SELECT num_rows FROM parquet_file_metadata(${sqlString(path)})`);
      files.push({ path, rows: toNumber(meta.num_rows) ?? 0 });
    }
    return files;
  }

  /** CSV by DuckDB's own writer when its bytes equal the Node writer's; see duckdb-csv.ts. */
  async exportCsv(table: StagedTable, dialect: CsvDialect, dir: string): Promise<ExportedFile[] | undefined> {
    if (csvDeclineReason(table.columns, dialect) !== undefined) return undefined;
    await mkdir(dir, { recursive: true });
    const files: ExportedFile[] = [];
    for (const [i, source] of (await this.partSources(table, dialect.maxRowsPerFile)).entries()) {
      const path = join(dir, `part-${String(i).padStart(5, '0')}.csv`);
      // COPY answers with the number of rows it wrote.
      const written = await this.connection.runAndReadAll(csvCopySql(source, table.columns, dialect, path));
      files.push({ path, rows: toNumber(written.getRows()[0]?.[0]) ?? 0 });
    }
    return files;
  }

  /**
   * What each part file holds, in staged order, exactly `rowsPerPart` rows each but the last; one
   * part (possibly empty: a header-only CSV) when not split. A staged table is written once by
   * CREATE TABLE AS, so its rowids run 0..n-1 in staged order and a rowid range is a filter the
   * scan applies; that is checked, not assumed, with ORDER BY rowid LIMIT/OFFSET (which sorts the
   * whole table for every part) as the fallback.
   */
  private async partSources(table: StagedTable, rowsPerPart: number | undefined): Promise<string[]> {
    if (!rowsPerPart) return [table.table];
    const stagedFile = this.parquetStaged.get(table.table);
    if (stagedFile) {
      // A staged Parquet file has no rowid; its row numbers are the staged order.
      const parts = Math.max(1, Math.ceil(table.rowCount / rowsPerPart));
      const numbered = `read_parquet(${sqlString(stagedFile)}, file_row_number = true)`;
      return Array.from(
        { length: parts },
        (_, i) => `(SELECT * EXCLUDE (file_row_number) FROM ${numbered} WHERE file_row_number >= ${i * rowsPerPart} AND file_row_number < ${(i + 1) * rowsPerPart})`,
      );
    }
    const [ids] = await this.query(`SELECT count(*) AS n, min(rowid) AS lo, max(rowid) AS hi FROM ${table.table}`);
    const n = toNumber(ids.n) ?? 0;
    const dense = n === 0 || (toNumber(ids.lo) === 0 && toNumber(ids.hi) === n - 1);
    const parts = Math.max(1, Math.ceil(n / rowsPerPart));
    return Array.from({ length: parts }, (_, i) =>
      dense
        ? `(SELECT * FROM ${table.table} WHERE rowid >= ${i * rowsPerPart} AND rowid < ${(i + 1) * rowsPerPart})`
        : `(SELECT * FROM ${table.table} ORDER BY rowid LIMIT ${rowsPerPart} OFFSET ${i * rowsPerPart})`,
    );
  }

  async dropStaged(table: StagedTable): Promise<void> {
    const stagedFile = this.parquetStaged.get(table.table);
    if (stagedFile) {
      await this.connection.run(`DROP VIEW IF EXISTS ${table.table}`);
      await rm(stagedFile, { force: true });
      this.parquetStaged.delete(table.table);
    }
    await this.connection.run(`DROP TABLE IF EXISTS ${table.table}`);
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.workDir, { recursive: true, force: true });
  }
}

/**
 * DuckDB's own default (80% of RAM) lets its buffer pool keep the whole staged table and every
 * hash table in memory, so the process grows with the extract. 512 MB per thread keeps it bounded
 * whatever the rows (beyond it DuckDB spills to the work folder) without slowing the scans and
 * COPYs of a run; less (256 MB for two threads) starved the ordered CSV COPY in the benchmark.
 */
function defaultMemoryLimit(threads: number | undefined): string {
  const perThread = 512 * 1024 * 1024;
  const bytes = Math.min(perThread * (threads ?? availableParallelism()), 0.8 * totalmem());
  return `${Math.floor(bytes / (1024 * 1024))}MB`;
}

/** Binds exactly the parameters the statement asks for, with their types: values never become SQL text. */
function bindParameters(prepared: DuckDBPreparedStatement, parameters: readonly QueryParameter[]): void {
  const byName = new Map(parameters.map((p) => [p.name, p]));
  for (let i = 1; i <= prepared.parameterCount; i++) {
    const name = prepared.parameterName(i);
    const p = byName.get(name);
    if (!p) {
      const known = parameters.map((q) => `$${q.name}`).join(', ');
      throw new QueryFailedError(`the feed query uses $${name}, which is not a parameter of this run (known: ${known})`);
    }
    switch (p.type) {
      case 'VARCHAR':
        prepared.bindVarchar(i, String(p.value));
        break;
      case 'BIGINT':
        prepared.bindBigInt(i, BigInt(p.value as number));
        break;
      case 'DOUBLE':
        prepared.bindDouble(i, Number(p.value));
        break;
      case 'BOOLEAN':
        prepared.bindBoolean(i, Boolean(p.value));
        break;
      case 'TIMESTAMP':
        prepared.bindTimestamp(i, timestampValue(BigInt(Date.parse(String(p.value))) * 1000n));
        break;
    }
  }
}

/**
 * Types DuckDB writes to Parquet and reads back unchanged. HUGEINT comes back as DOUBLE, ENUM as
 * VARCHAR, STRUCT with other quoting; those (and anything unlisted) are staged as a table.
 */
function parquetKeepsType(type: string): boolean {
  const scalar = type.replace(/(\[\d*\])+$/, '');
  return /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|VARCHAR|BLOB|DATE|TIME|TIMESTAMP|TIMESTAMP WITH TIME ZONE|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMP_S|INTERVAL|UUID)$/.test(scalar);
}

export function stagingTableName(runId: string): string {
  return `stg_${runId.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
