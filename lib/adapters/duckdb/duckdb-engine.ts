import { createReadStream } from 'node:fs';
import { link, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement, StatementType, timestampValue } from '@duckdb/node-api';
import { ConfigError, type ConfigProblem, QueryFailedError } from '../../core/errors';
import { csvFileName } from '../../core/csv/csv-writer';
import { toPositional, UnknownParameterError } from '../../core/sql-parameters';
import { putHashed } from '../../core/hash';
import type { ObjectStore } from '../../core/ports/object-store';
import type {
  ColumnSchema,
  CsvExport,
  Execution,
  ExportedFile,
  ParquetExport,
  QueryEngine,
  QueryParameter,
  StageRequest,
  StagedTable,
  Statement,
} from '../../core/ports/query-engine';
import { csvCopySql, csvDeclineReason, type CsvQuoting, NativeQuotingCheck, nativeQuotingFits } from './duckdb-csv';
import { hugeintColumns, parquetColumn, parquetSelectList } from './duckdb-parquet';
import { writerTag } from '../local/process-identity';
import { canonicalText, quoteIdent, sqlString, toNumber } from './duckdb-sql';
import { localFiles, LocalFiles } from './local-files';
import type { LocalSource } from '../../core/feed/feed-definition';
import { duckdbDialect } from './duckdb-dialect';
import { parquetProfile } from './duckdb-profile';
import { tailFile, type TailInspector, TailMismatchError } from './tail-file';
import { attemptOfStagingKey, dataFileName } from '../../core/layout';

/** The project model defines its sources; this engine reads them (re-exported for callers of the engine). */
export type { LocalSource } from '../../core/feed/feed-definition';

export interface DuckDbEngineOptions {
  /** Where staged rows and exports go: the run's store. */
  readonly store: ObjectStore;
  /** Tables the feed SQL can read: name → files. Created as views, so a source is scanned only at stage time. */
  readonly sources?: Readonly<Record<string, LocalSource>>;
  /**
   * Where the engine makes its own scratch folder (database, spill files, exports on their way to
   * a remote store), removed on close. Default: the system temp folder.
   */
  readonly workDir?: string;
  /** DuckDB memory_limit, e.g. '2GB'. Default: 512 MiB per thread, at most DuckDB's own default (80% of RAM). */
  readonly memoryLimit?: string;
  readonly threads?: number;
  /** The project's key prefix in the store, where its `_staging/` is. */
  readonly prefix?: string;
  /**
   * The staging prefix of the one attempt this engine serves (a run's engine): the only part of a
   * local store its SQL may touch, so feed SQL cannot read another run's staged rows. Without it
   * (an engine not tied to a run) the whole `_staging/` folder is allowed.
   */
  readonly stagingPrefix?: string;
  /**
   * Sources become empty tables with the sources' columns instead of views: for compiling queries
   * only (`dropkit check`). Each source's schema is read once (a Parquet footer, one CSV sniff)
   * instead of at every query that names it; a view re-sniffs a CSV each time.
   */
  readonly schemaOnly?: boolean;
}

/** DuckDB's flavour of a staged table: a Parquet file, or a table in a DuckDB database file. */
type DuckDbStagedFormat = 'parquet' | 'duckdb';

const STAGED_PARQUET = 'staged.parquet';
const STAGED_DATABASE = 'staged.duckdb';

/**
 * The embedded engine: DuckDB runs the feed SQL, the checks, and writes Parquet and CSV. It reads
 * and writes store keys: staged rows live under the attempt's staging prefix in the store, so any
 * instance can pick up a StagedTable. Feed SQL runs with file access confined to the project's
 * declared sources and the engine's own folders.
 */
export class DuckDbEngine implements QueryEngine {
  readonly dialect = duckdbDialect;
  /** One statement at a time on the connection; exports of two formats may be asked at once. */
  private busy: Promise<unknown> = Promise.resolve();
  /** Staged rows this instance can already name in SQL: view name → location. */
  private readonly attached = new Set<string>();
  /**
   * CSV parts kept by who quoted them, and parts written again with the quoting in SQL after
   * DuckDB's own met a `#` or U+FEFF (for the tests and the bench).
   */
  readonly csvParts = { native: 0, sql: 0, retried: 0 };

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly workDir: string,
    private readonly files: LocalFiles,
  ) {}

  static async open(options: DuckDbEngineOptions): Promise<DuckDbEngine> {
    const parent = options.workDir ?? tmpdir();
    await mkdir(parent, { recursive: true });
    // The process id and its PID namespace in the name let the next run tell a dead engine's folder
    // from a live one's, and leave alone a folder of another container sharing the store.
    const workDir = await mkdtemp(join(parent, `duckdb-${writerTag()}-`));
    const files = localFiles(options.store, workDir, options.prefix, options.stagingPrefix);
    // No extension downloads: everything needed (parquet, json, icu) is built in, and there may be no network.
    const config: Record<string, string> = { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' };
    const budget = { ...engineBudgetFromEnv(), ...definedOnly({ memoryLimit: options.memoryLimit, threads: options.threads }) };
    config.memory_limit = budget.memoryLimit ?? defaultMemoryLimit(budget.threads);
    if (budget.threads) config.threads = String(budget.threads);
    config.temp_directory = join(workDir, 'spill');
    const instance = await DuckDBInstance.create(join(workDir, 'engine.duckdb'), config);
    const connection = await instance.connect();
    const engine = new DuckDbEngine(instance, connection, workDir, files);
    try {
      // Timestamps are bound and rendered in UTC whatever the machine's zone (ICU is loaded by now).
      await connection.run(`SET TimeZone = 'UTC'`);
      // The staged rows are written once, read a few times, then dropped: dictionary analysis cost a
      // third of staging's CPU in the benchmark for a file no smaller. Only an optimisation.
      await connection.run(`SET disabled_compression_methods = 'dictionary'`).catch(() => undefined);
      await engine.confine(options.sources ?? {});
      for (const [name, source] of Object.entries(options.sources ?? {})) await engine.registerSource(name, source, options.schemaOnly === true);
      // From here on no statement can change what the engine may touch.
      await connection.run('SET lock_configuration = true');
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  /**
   * Feed SQL and checks may read the declared sources and nothing else on the machine; the engine
   * writes only into its own folder and the store's folder.
   */
  private async confine(sources: Readonly<Record<string, LocalSource>>): Promise<void> {
    const dirs = new Set<string>([this.workDir, ...this.files.allowedDirectories()]);
    const paths = new Set<string>();
    for (const source of Object.values(sources)) {
      if (/[*?[{]/.test(source.path)) dirs.add(globRoot(source.path));
      else paths.add(source.path);
    }
    const list = (items: Set<string>) => `[${[...items].map(sqlString).join(', ')}]`;
    await this.connection.run(`SET allowed_directories = ${list(dirs)}`);
    if (paths.size) await this.connection.run(`SET allowed_paths = ${list(paths)}`);
    await this.connection.run('SET enable_external_access = false');
  }

  private async registerSource(name: string, source: LocalSource, schemaOnly: boolean): Promise<void> {
    const reader =
      source.format === 'parquet'
        ? `read_parquet(${sqlString(source.path)})`
        : // Quoted empty strings stay empty strings, not NULL.
          `read_csv(${sqlString(source.path)}, header = true, allow_quoted_nulls = false)`;
    try {
      await this.connection.run(
        schemaOnly
          ? `CREATE OR REPLACE TABLE ${quoteIdent(name)} AS SELECT * FROM ${reader} LIMIT 0`
          : `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT * FROM ${reader}`,
      );
    } catch (error) {
      throw new QueryFailedError(
        `source "${name}" (${source.path}) cannot be read as ${source.format}: ${messageOf(error).split('\n')[0]}; fix its path under sources: in the project file`,
        { cause: error },
      );
    }
  }

  /**
   * When every result type survives Parquet unchanged, the result is staged as a zstd Parquet
   * file (as Athena stages with CTAS): writing it is the one pass over the source, and a Parquet
   * drop with the default options is that very file. Otherwise (HUGEINT, ENUM, STRUCT, …) it is
   * staged as a table in a DuckDB database file.
   */
  async compileStage(request: StageRequest): Promise<Statement> {
    const positional = this.positional(request);
    await this.forget(request.stagingPrefix);
    const types = await this.exclusive(() => this.resultTypes(positional.sql));
    const token = `${request.runId}.${request.attemptId}.stage`;
    if (types && types.every(parquetKeepsType)) {
      const path = await this.files.writablePath(request.stagingPrefix + STAGED_PARQUET);
      // Newlines keep a trailing `-- comment` in the feed SQL from swallowing the rest of the statement.
      return { sql: `COPY (\n${positional.sql}\n) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`, parameters: positional.parameters, token };
    }
    return this.tableStageStatement(request, token);
  }

  /**
   * Compiles a query as written (named `$parameters`, typed values bound) without running it: no
   * row of a source is read. Returns its columns; throws the engine's own error text otherwise,
   * whose `LINE n:` and caret point into this very text. For `dropkit check`.
   */
  async describeQuery(sql: string, parameters: readonly QueryParameter[]): Promise<ColumnSchema[]> {
    return this.exclusive(async () => {
      const prepared = await this.connection.prepare(stripTrailingSemicolons(sql));
      try {
        for (let i = 1; i <= prepared.parameterCount; i++) {
          const name = prepared.parameterName(i);
          const p = parameters.find((x) => x.name === name);
          if (p) bindOne(prepared, i, p);
        }
        return Array.from({ length: prepared.columnCount }, (_, i) => ({
          name: prepared.columnName(i),
          type: prepared.columnType(i).toString(),
          nullable: true,
        }));
      } finally {
        prepared.destroySync();
      }
    });
  }

  /** Re-staging an attempt starts clean: whatever it staged before, in either form, goes. */
  private async forget(stagingPrefix: string): Promise<void> {
    const name = quoteIdent(stagedName(stagingPrefix));
    await this.exclusive(async () => {
      await this.connection.run(`DROP VIEW IF EXISTS ${name}`);
      await this.connection.run(`DETACH DATABASE IF EXISTS ${name}`);
    });
    this.attached.delete(stagingPrefix + STAGED_PARQUET);
    this.attached.delete(stagingPrefix + STAGED_DATABASE);
    await this.files.remove(stagingPrefix + STAGED_PARQUET);
    await this.files.remove(stagingPrefix + STAGED_DATABASE);
  }

  private async tableStageStatement(request: StageRequest, token: string): Promise<Statement> {
    const positional = this.positional(request);
    const database = stagedName(request.stagingPrefix);
    const path = await this.files.writablePath(request.stagingPrefix + STAGED_DATABASE);
    await this.exclusive(async () => {
      await this.connection.run(`DROP VIEW IF EXISTS ${quoteIdent(database)}`);
      await this.connection.run(`DETACH DATABASE IF EXISTS ${quoteIdent(database)}`);
      await rm(path, { force: true });
      await this.connection.run(`ATTACH ${sqlString(path)} AS ${quoteIdent(database)}`);
    });
    this.attached.add(request.stagingPrefix + STAGED_DATABASE);
    return {
      sql: `CREATE OR REPLACE TABLE ${quoteIdent(database)}.staged AS ${positional.sql}`,
      parameters: positional.parameters,
      token,
      // Another instance running this statement attaches the staging database first.
      setup: [`ATTACH IF NOT EXISTS ${sqlString(path)} AS ${quoteIdent(database)}`],
    };
  }

  private positional(request: StageRequest) {
    // Staged in the feed's order when it names one: the staged rows are every file's order.
    const sql = request.orderBy
      ? `SELECT * FROM (\n${stripTrailingSemicolons(request.sql)}\n) ORDER BY ${request.orderBy.map(quoteIdent).join(', ')}`
      : stripTrailingSemicolons(request.sql);
    try {
      return toPositional(sql, request.parameters, this.dialect.lexing);
    } catch (error) {
      if (error instanceof UnknownParameterError) throw new QueryFailedError(error.message, { cause: error });
      throw error;
    }
  }

  async execute(statement: Statement): Promise<Execution> {
    const started = Date.now();
    const rows = await this.exclusive(async () => {
      for (const setup of statement.setup ?? []) await this.connection.run(setup);
      return this.runBound(statement.sql, statement.parameters);
    });
    return { executionId: null, rows, bytesScanned: null, engineMillis: Date.now() - started };
  }

  async describeStage(request: StageRequest, execution: Execution): Promise<StagedTable> {
    const parquetKey = request.stagingPrefix + STAGED_PARQUET;
    const format: DuckDbStagedFormat = (await this.files.exists(parquetKey)) ? 'parquet' : 'duckdb';
    const location = request.stagingPrefix + (format === 'parquet' ? STAGED_PARQUET : STAGED_DATABASE);
    const alias = quoteIdent(stagedName(request.stagingPrefix));
    const partial: StagedTable = {
      engine: this.dialect.name,
      table: format === 'parquet' ? alias : `${alias}.staged`,
      location,
      format,
      rowCount: 0,
      columns: [],
      execution,
    };
    if (format === 'parquet') await this.files.commit(parquetKey);
    const table = await this.attach(partial);
    const columns = await this.exclusive(() => this.describe(table));
    if (format === 'parquet') {
      const expected = await this.exclusive(() => this.resultTypes(this.positional(request).sql));
      if (expected && columns.some((c, i) => c.type !== expected[i])) {
        // A type the pre-check let through changed on the way: stage as a table instead.
        await this.forget(request.stagingPrefix);
        const statement = await this.tableStageStatement(request, `${request.runId}.${request.attemptId}.stage-table`);
        return this.describeStage(request, await this.execute(statement));
      }
    }
    const rowCount = execution.rows ?? toNumber((await this.query(`SELECT count(*) AS n FROM ${table}`, partial))[0].n) ?? 0;
    return { ...partial, rowCount, columns, ...(request.orderBy ? { orderBy: request.orderBy } : {}) };
  }

  /** Makes staged rows nameable in SQL on this instance (another instance may have staged them). */
  private async attach(staged: StagedTable): Promise<string> {
    const name = quoteIdent(stagedName(staged.location));
    if (this.attached.has(staged.location)) return staged.table;
    const path = await this.files.readablePath(staged.location);
    await this.exclusive(async () => {
      if (staged.format === 'parquet') {
        await this.connection.run(`CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet(${sqlString(path)})`);
      } else {
        await this.connection.run(`ATTACH IF NOT EXISTS ${sqlString(path)} AS ${name}`);
      }
    });
    this.attached.add(staged.location);
    return staged.table;
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

  /** Runs a statement with its positional parameters bound; returns the rows it reports. */
  private async runBound(statement: string, parameters: readonly QueryParameter[]): Promise<number> {
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await this.connection.prepare(statement);
    } catch (error) {
      throw new QueryFailedError(`the feed query does not compile on DuckDB: ${messageOf(error)}`, { cause: error });
    }
    try {
      bindPositional(prepared, parameters);
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
    const reader = await this.connection.runAndReadAll(`DESCRIBE ${table}`);
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    const columns: ColumnSchema[] = rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type), nullable: r.null !== 'NO' }));
    // The type each converted column has in the Parquet file, as DuckDB names it (exportParquet writes that select list).
    const selectList = parquetSelectList(columns);
    if (selectList === undefined) return columns;
    const converted = (await this.connection.runAndReadAll(`DESCRIBE SELECT ${selectList} FROM ${table}`)).getRowObjectsJson();
    return columns.map((c, i) => (parquetColumn(c) ? { ...c, parquetType: String(converted[i].column_type) } : c));
  }

  /**
   * A check's query: exactly one read-only SELECT. A check cannot close its wrapper and run a
   * second statement (COPY, ATTACH, SET…): anything else is refused before it runs.
   */
  async query(sql: string, staged: StagedTable): Promise<Record<string, unknown>[]> {
    await this.attach(staged);
    const text = sql;
    return this.exclusive(async () => {
      try {
        const extracted = await this.connection.extractStatements(text);
        if (extracted.count !== 1) throw new Error(`a check must be one SELECT statement; this SQL holds ${extracted.count}`);
        const prepared = await extracted.prepare(0);
        try {
          if (prepared.statementType !== StatementType.SELECT) throw new Error('a check must be a read-only SELECT statement');
          const reader = await prepared.runAndReadAll();
          return reader.getRowObjectsJson() as Record<string, unknown>[];
        } finally {
          prepared.destroySync();
        }
      } catch (error) {
        throw new QueryFailedError(messageOf(error), { cause: error });
      }
    });
  }

  /** The profile from the staged Parquet file's metadata and a sample of its rows (duckdb-profile.ts); a staged table is profiled in the checks' scan. */
  async profile(staged: StagedTable): Promise<Record<string, unknown> | undefined> {
    if (staged.format !== 'parquet') return undefined;
    const path = await this.files.readablePath(staged.location);
    const run = (sql: string) => this.exclusive(async () => (await this.connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]);
    return parquetProfile(run, path, staged.columns);
  }

  async *streamText(staged: StagedTable, batchRows = 2048): AsyncIterable<(string | null)[][]> {
    const table = await this.attach(staged);
    const select = staged.columns.map((c) => `${canonicalText(c)} AS ${quoteIdent(c.name)}`).join(', ');
    // Held for the whole stream: the connection serves one result at a time.
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const previous = this.busy;
    this.busy = previous.then(() => done);
    await previous.catch(() => undefined);
    try {
      const result = await this.connection.stream(`SELECT ${select || '1'} FROM ${table}`);
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
    } finally {
      release();
    }
  }

  async exportParquet(staged: StagedTable, options: ParquetExport): Promise<ExportedFile[]> {
    const table = await this.attach(staged);
    const contentType = 'application/vnd.apache.parquet';
    // Types Parquet cannot hold as they are get a type that keeps their values (duckdb-parquet.ts).
    const selectList = parquetSelectList(staged.columns);
    if (staged.format === 'parquet' && options.compression === 'zstd' && !options.maxRowsPerFile && selectList === undefined) {
      // The staged file is exactly what this COPY would write: hand over a hard link, no second pass.
      const scratch = await this.scratchFile(dataFileName(0, 'parquet'));
      await link(await this.files.readablePath(staged.location), scratch);
      return [
        {
          key: options.prefix + dataFileName(0, 'parquet'),
          rows: staged.rowCount,
          ...(await this.files.adopt(options.prefix + dataFileName(0, 'parquet'), scratch, contentType)),
        },
      ];
    }
    const codec = options.compression === 'uncompressed' ? 'uncompressed' : options.compression;
    const files: ExportedFile[] = [];
    for (const [i, source] of (await this.partSources(staged, table, options.maxRowsPerFile)).entries()) {
      const name = `part-${String(i).padStart(5, '0')}.parquet`;
      const scratch = await this.scratchFile(name);
      const rows = await this.exclusive(async () => {
        try {
          await this.connection.run(`COPY (SELECT ${selectList ?? '*'} FROM ${source}) TO ${sqlString(scratch)} (FORMAT parquet, COMPRESSION ${codec})`);
        } catch (error) {
          throw await this.parquetValueError(error, staged.columns, source);
        }
        const meta = await this.connection.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata(${sqlString(scratch)})`);
        return toNumber(meta.getRows()[0]?.[0]) ?? 0;
      });
      files.push({ key: options.prefix + name, rows, ...(await this.files.adopt(options.prefix + name, scratch, contentType)) });
    }
    return files;
  }

  /**
   * The error of a Parquet COPY: a HUGEINT beyond DECIMAL(38,0) is named with its column and the
   * fix (runs alone on the connection: called inside `exclusive`).
   */
  private async parquetValueError(error: unknown, columns: readonly ColumnSchema[], source: string): Promise<Error> {
    const message = messageOf(error);
    if (/Could not cast value .* to DECIMAL\(38,0\)/.test(message)) {
      for (const column of hugeintColumns(columns)) {
        const converted = parquetColumn(column);
        const fails = await this.connection.run(`SELECT count(${converted}) FROM ${source}`).then(
          () => false,
          () => true,
        );
        if (!fails) continue;
        const value = /Could not cast value (\S+)/.exec(message)?.[1] ?? '';
        return new QueryFailedError(
          `column ${JSON.stringify(column.name)} (${column.type}) holds ${value}, which DECIMAL(38,0), the widest exact integer ` +
            `Parquet readers know, cannot hold: dropkit does not round it to a DOUBLE. CAST the column AS VARCHAR in the feed SQL to ` +
            `deliver it as text, or deliver CSV only`,
          { cause: error },
        );
      }
    }
    return new QueryFailedError(`writing Parquet failed on DuckDB: ${message}`, { cause: error });
  }

  /** CSV by DuckDB's own writer when its bytes equal the Node writer's; see duckdb-csv.ts. */
  async exportCsv(staged: StagedTable, options: CsvExport): Promise<ExportedFile[] | undefined> {
    const { dialect } = options;
    if (csvDeclineReason(staged.columns, dialect) !== undefined) return undefined;
    const table = await this.attach(staged);
    // DuckDB's own quoting first where it can match; once a part needs the SQL quoting, the
    // following parts (the same data) go that way at once.
    let quoting: CsvQuoting = nativeQuotingFits(staged.columns, dialect) ? 'native' : 'sql';
    const files: ExportedFile[] = [];
    for (const [i, source] of (await this.partSources(staged, table, dialect.maxRowsPerFile)).entries()) {
      let file = quoting === 'native' ? await this.exportCsvPart(staged, source, i, options, 'native') : undefined;
      if (!file) {
        if (quoting === 'native') this.csvParts.retried++;
        quoting = 'sql';
        file = (await this.exportCsvPart(staged, source, i, options, 'sql'))!;
      }
      this.csvParts[quoting]++;
      files.push(file);
    }
    return files;
  }

  /**
   * One CSV part; undefined when DuckDB's own quoting (`native`) met a value it quotes differently
   * from the Node writer, or the bytes could not all be watched: then nothing of it is kept.
   */
  private async exportCsvPart(staged: StagedTable, source: string, index: number, options: CsvExport, quoting: CsvQuoting): Promise<ExportedFile | undefined> {
    const { dialect } = options;
    const contentType = dialect.gzip ? 'application/gzip' : 'text/csv';
    const key = options.prefix + csvFileName(index, dialect);
    const scratch = await this.scratchFile(`part-${String(index).padStart(5, '0')}.csv`);
    const check = quoting === 'native' && dialect.quoting !== 'all' ? new NativeQuotingCheck(dialect) : undefined;
    let copying = true;
    // COPY answers with the number of rows it wrote.
    const copied = this.exclusive(async () => {
      try {
        const written = await this.connection.runAndReadAll(csvCopySql(source, staged.columns, dialect, scratch, quoting));
        return toNumber(written.getRows()[0]?.[0]) ?? 0;
      } finally {
        copying = false;
      }
    });
    const inspect = check && {
      chunk: (bytes: Buffer) => {
        if (!check.scan(bytes)) return;
        // The COPY is running (the file exists only once it does, and `copying` clears before the
        // next statement can start): stop it, its bytes are thrown away.
        if (copying) this.connection.interrupt();
        throw new Error('DuckDB quotes this CSV differently from the Node writer: written again with the quoting in SQL');
      },
      end: () => void (check.complete = true),
    };
    // Hashed, or gzipped, while DuckDB writes (DuckDB appends to the file, and tailFile checks
    // that it read exactly the finished file): no second read of the CSV after the COPY.
    // Gzipped by Node: Node's zlib outpaces DuckDB's, and is what the Node writer uses.
    const storing = dialect.gzip
      ? this.storeGzipped(key, scratch, copied, contentType, inspect)
      : this.files.adoptWhileWritten(key, scratch, copied, contentType, { inspect });
    // Both settle before either error is thrown: nothing is still writing when the caller cleans up.
    const [rows, stored] = await Promise.allSettled([copied, storing]);
    // Not the Node writer's bytes: the SQL quoting writes the part again.
    if (check?.differs) {
      await rm(scratch, { force: true });
      return undefined;
    }
    if (rows.status === 'rejected') throw rows.reason;
    if (stored.status === 'rejected') throw stored.reason;
    // The file was read again after a tail that missed (the watch saw only part of it): not known
    // to be the Node writer's bytes, so written again too (over the stored copy).
    if (check && !check.complete) return undefined;
    return { key, rows: rows.value, ...stored.value };
  }

  /** Gzips the file into the store as DuckDB writes it (read again from the finished file if the tail missed). */
  private async storeGzipped(
    key: string,
    file: string,
    written: Promise<unknown>,
    contentType: string,
    inspect?: TailInspector,
  ): Promise<{ bytes: number; sha256: string }> {
    const store = async (source: Readable) => {
      try {
        const gz = createGzip(); // default level, as the Node writer
        source.on('error', (e) => gz.destroy(e));
        return await putHashed(this.files.store, key, source.pipe(gz), contentType);
      } finally {
        source.destroy(); // A failed put destroys only the gzip stream: the file would stay open.
      }
    };
    try {
      return await store(tailFile(file, written, { inspect }));
    } catch (error) {
      if (!(error instanceof TailMismatchError)) throw error;
      await written;
      return await store(createReadStream(file, { highWaterMark: 1 << 20 }));
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * What each part file holds, in staged order, exactly `rowsPerPart` rows each but the last; one
   * part (possibly empty: a header-only CSV) when not split. A staged Parquet file numbers its rows
   * in staged order; a staged table written once by CREATE TABLE AS has dense rowids in staged
   * order (checked, with ORDER BY rowid LIMIT/OFFSET as the fallback).
   */
  private async partSources(staged: StagedTable, table: string, rowsPerPart: number | undefined): Promise<string[]> {
    if (!rowsPerPart) return [table];
    if (staged.format === 'parquet') {
      const path = await this.files.readablePath(staged.location);
      const parts = Math.max(1, Math.ceil(staged.rowCount / rowsPerPart));
      const numbered = `read_parquet(${sqlString(path)}, file_row_number = true)`;
      return Array.from(
        { length: parts },
        (_, i) =>
          `(SELECT * EXCLUDE (file_row_number) FROM ${numbered} WHERE file_row_number >= ${i * rowsPerPart} AND file_row_number < ${(i + 1) * rowsPerPart})`,
      );
    }
    const [ids] = await this.query(`SELECT count(*) AS n, min(rowid) AS lo, max(rowid) AS hi FROM ${table}`, staged);
    const n = toNumber(ids.n) ?? 0;
    const dense = n === 0 || (toNumber(ids.lo) === 0 && toNumber(ids.hi) === n - 1);
    const parts = Math.max(1, Math.ceil(n / rowsPerPart));
    return Array.from({ length: parts }, (_, i) =>
      dense
        ? `(SELECT * FROM ${table} WHERE rowid >= ${i * rowsPerPart} AND rowid < ${(i + 1) * rowsPerPart})`
        : `(SELECT * FROM ${table} ORDER BY rowid LIMIT ${rowsPerPart} OFFSET ${i * rowsPerPart})`,
    );
  }

  async dropStaged(staged: StagedTable): Promise<void> {
    if (!this.attached.has(staged.location)) return;
    this.attached.delete(staged.location);
    const name = quoteIdent(stagedName(staged.location));
    await this.exclusive(async () => {
      if (staged.format === 'parquet') await this.connection.run(`DROP VIEW IF EXISTS ${name}`);
      else await this.connection.run(`DETACH DATABASE IF EXISTS ${name}`);
    });
  }

  async close(): Promise<void> {
    await this.busy.catch(() => undefined);
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.workDir, { recursive: true, force: true });
  }

  /** A fresh path in the scratch folder for an export on its way to the store. */
  private async scratchFile(name: string): Promise<string> {
    const dir = await mkdtemp(join(this.workDir, 'export-'));
    return join(dir, name);
  }

  /** Runs `work` alone on the connection. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.busy.then(work, work);
    this.busy = run.catch(() => undefined);
    return run;
  }
}

/** Environment variables that set a local engine's memory budget (README "Speed": the memory budget). */
export const MEMORY_LIMIT_ENV = 'DROPKIT_DUCKDB_MEMORY_LIMIT';
export const THREADS_ENV = 'DROPKIT_DUCKDB_THREADS';

/**
 * The memory budget the environment sets, checked here so a typo names the variable and the fix
 * instead of surfacing as DuckDB's parse error in the middle of a run.
 */
export function engineBudgetFromEnv(env: NodeJS.ProcessEnv = process.env): { memoryLimit?: string; threads?: number } {
  const problems: ConfigProblem[] = [];
  const budget: { memoryLimit?: string; threads?: number } = {};
  const limit = env[MEMORY_LIMIT_ENV]?.trim();
  if (limit) {
    if (/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(limit)) budget.memoryLimit = limit;
    else
      problems.push({
        file: 'environment',
        path: MEMORY_LIMIT_ENV,
        message: 'is not a memory size',
        value: limit,
        fix: `give a size such as 1GB or 768MB (DuckDB's memory_limit), or unset it for the default of 512 MiB per thread`,
      });
  }
  const threads = env[THREADS_ENV]?.trim();
  if (threads) {
    if (/^[1-9]\d{0,3}$/.test(threads)) budget.threads = Number(threads);
    else
      problems.push({
        file: 'environment',
        path: THREADS_ENV,
        message: 'is not a whole number of threads',
        value: threads,
        fix: 'give a whole number from 1 (e.g. 2), or unset it for one thread per core',
      });
  }
  if (problems.length) throw new ConfigError(problems);
  return budget;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * DuckDB's own default (80% of RAM) lets its buffer pool keep the whole staged table and every
 * hash table in memory, so the process grows with the extract. 512 MiB per thread bounds it
 * (beyond it DuckDB spills to the work folder) without slowing a run: it still reaches about
 * 1 GB at 20M bench rows, where the `unique` check's hash table of 20M keys peaks. A tighter
 * budget (DROPKIT_DUCKDB_MEMORY_LIMIT=256MiB) keeps the peak near 500 MB but, on an idle machine,
 * makes runs 1.2-1.6x slower: DuckDB holds back the ordered COPYs' threads (README "Memory budget").
 */
function defaultMemoryLimit(threads: number | undefined): string {
  const perThreadMiB = 512;
  const mib = Math.min(perThreadMiB * (threads ?? availableParallelism()), (0.8 * totalmem()) / (1024 * 1024));
  return `${Math.floor(mib)}MiB`;
}

/** Binds positional parameters with their types: values never become SQL text. */
function bindPositional(prepared: DuckDBPreparedStatement, parameters: readonly QueryParameter[]): void {
  if (prepared.parameterCount !== parameters.length) {
    throw new QueryFailedError(`the statement takes ${prepared.parameterCount} parameters but ${parameters.length} were given`);
  }
  parameters.forEach((p, index) => bindOne(prepared, index + 1, p));
}

function bindOne(prepared: DuckDBPreparedStatement, i: number, p: QueryParameter): void {
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
      prepared.bindBoolean(i, p.value === true || p.value === 'true');
      break;
    case 'TIMESTAMP':
      prepared.bindTimestamp(i, timestampValue(BigInt(Date.parse(String(p.value))) * 1000n));
      break;
  }
}

/**
 * Types DuckDB writes to Parquet and reads back unchanged. HUGEINT comes back as DOUBLE, ENUM as
 * VARCHAR, STRUCT with other quoting, INTERVAL cut to milliseconds and wrapped at 2^32 ms (negative
 * ones refused), TIME WITH TIME ZONE without its offset; those (and anything unlisted) are staged
 * as a table.
 */
function parquetKeepsType(type: string): boolean {
  const scalar = type.replace(/(\[\d*\])+$/, '');
  return /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|VARCHAR|BLOB|DATE|TIME|TIMESTAMP|TIMESTAMP WITH TIME ZONE|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMP_S|UUID)$/.test(
    scalar,
  );
}

/** The SQL alias of the rows staged under a prefix (or at a key in it): unique per attempt, a valid identifier. */
export function stagedName(stagingKey: string): string {
  const attempt = attemptOfStagingKey(stagingKey);
  return `stg_${attempt.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The folder a glob reads from: everything before its first wildcard segment. */
function globRoot(pattern: string): string {
  const cut = pattern.search(/[*?[{]/);
  return dirname(pattern.slice(0, cut) + 'x');
}

function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
