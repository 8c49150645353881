import { Readable } from 'node:stream';
import {
  AthenaClient,
  AthenaClientConfig,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetQueryResultsCommandOutput,
  GetTableMetadataCommand,
  QueryExecution,
  StartQueryExecutionCommand,
  StartQueryExecutionCommandInput,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { QueryFailedError, StepTimeBudgetError, UsageError } from '../../core/errors';
import { toPositional, UnknownParameterError } from '../../core/sql-parameters';
import type { ObjectStore } from '../../core/ports/object-store';
import type {
  ColumnSchema,
  Execution,
  ExportedFile,
  ParquetExport,
  QueryEngine,
  QueryParameter,
  StageRequest,
  StagedTable,
  Statement,
} from '../../core/ports/query-engine';
import { readAthenaCsv } from './athena-csv-transform';
import {
  canonicalSelect,
  ctasSql,
  dropTableSql,
  engineType,
  notOneSelect,
  PART_COLUMN,
  quoteIdent,
  splitQualifiedName,
  requestToken,
  sqlLiteral,
  stagingTableName,
  stripTrailingSemicolons,
  unloadSql,
} from './athena-sql';
import { parquetRowsFromTail } from './parquet-footer';
import { sha256Hex } from '../../core/hash';
import { sleep } from '../../core/retry';
import { AWS_RETRY } from '../aws-retry';
import { athenaDialect } from './athena-dialect';
import { dataFileName } from '../../core/layout';

export interface AthenaEngineOptions {
  /** The feed's workgroup: every query runs in it (its limits, its encryption, its bill). */
  readonly workGroup: string;
  /** Glue database the staging tables are created in (and dropped from). */
  readonly stagingDatabase: string;
  /** The run's store: the S3 bucket `bucket` (under `prefix`) as an ObjectStore. */
  readonly store: ObjectStore;
  readonly bucket: string;
  /** Where the store's root is in the bucket (`''` or ending with `/`): store key `k` is `s3://bucket/<prefix>k`. */
  readonly prefix?: string;
  /** Database unqualified table names in feed SQL resolve in. Default: the workgroup's (`default`). */
  readonly database?: string;
  /** Data catalog of `stagingDatabase`. Default `AwsDataCatalog`. */
  readonly catalog?: string;
  /**
   * The drops bucket's customer-managed KMS key: staged tables, UNLOADed files and results are
   * written SSE-KMS with it. Default: no encryption setting on the query (the workgroup's applies).
   */
  readonly kmsKey?: string;
  readonly client?: AthenaClient;
  /** Used to build the client when none is given. */
  readonly clientConfig?: AthenaClientConfig;
  /** First wait between status polls; doubles up to 5 s. Default 500 ms. */
  readonly pollIntervalMs?: number;
  /** Longest wait for one query before giving up on it. Default 30 minutes. */
  readonly maxWaitMs?: number;
  /**
   * How long a wait may still take, asked before each wait (in a Lambda: the remaining time less a
   * margin). A query still running at that bound is stopped and `StepTimeBudgetError` thrown, which
   * the state machine retries. Default: no bound but `maxWaitMs`.
   */
  readonly timeLeftMs?: () => number;
}

/** Where a stage statement puts things, under the attempt's staging prefix. */
const STAGED_DIR = 'staged/';
const RESULTS_DIR = 'athena-results/';
const UNLOAD_DIR = 'unload/';
/** Bytes read from the end of a Parquet file: enough for the footer of any file Athena writes here. */
const FOOTER_READ = 64 * 1024;
/** Athena's reasons for a CTAS whose table exists (not HIVE_PATH_ALREADY_EXISTS: files without a table). */
const TABLE_EXISTS = /TABLE_ALREADY_EXISTS|AlreadyExistsException|Table already exists/;
const PART_FILE = /^part-\d{5}\.parquet$/;

/** What the engine derives from a stage request: table, locations, statement. Pure. */
export interface AthenaStagePlan {
  readonly table: string;
  /** Store key prefix the CTAS writes its Parquet files under. */
  readonly stagedKeyPrefix: string;
  readonly statement: Statement;
  readonly input: StartQueryExecutionCommandInput;
}

type BuilderOptions = Pick<AthenaEngineOptions, 'workGroup' | 'stagingDatabase' | 'bucket' | 'prefix' | 'database' | 'catalog' | 'kmsKey'>;

/** `s3://bucket/<prefix><key>` of a store key. */
export function s3UriOf(options: Pick<AthenaEngineOptions, 'bucket' | 'prefix'>, key: string): string {
  return `s3://${options.bucket}/${options.prefix ?? ''}${key}`;
}

/** The store key of an S3 URI in the store's bucket, or undefined when the URI is outside the store. */
export function storeKeyOf(options: Pick<AthenaEngineOptions, 'bucket' | 'prefix'>, uri: string): string | undefined {
  const root = s3UriOf(options, '');
  return uri.startsWith(root) ? uri.slice(root.length) : undefined;
}

/**
 * The stage step of a request as Athena's StartQueryExecution input, exactly as the engine sends
 * it (a state machine can send it itself with the `.sync` integration): the feed query as CTAS
 * into Parquet under `<stagingPrefix>staged/<table>/`, its `$name` parameters as positional
 * ExecutionParameters (typed, escaped literals), a ClientRequestToken from run, attempt and step.
 */
export function athenaStageStatement(request: StageRequest, options: BuilderOptions): AthenaStagePlan {
  let positional: { sql: string; parameters: QueryParameter[] };
  try {
    positional = toPositional(stripTrailingSemicolons(request.sql), request.parameters, athenaDialect.lexing);
  } catch (error) {
    if (error instanceof UnknownParameterError) throw new QueryFailedError(error.message, { cause: error });
    throw error;
  }
  const literals = positional.parameters.map(sqlLiteral);
  const identity = JSON.stringify([positional.sql, literals, options.stagingDatabase, request.stagingPrefix]);
  const table = stagingTableName(request.runId, request.attemptId, identity);
  const stagedKeyPrefix = `${request.stagingPrefix}${STAGED_DIR}${table}/`;
  const sql = ctasSql(options.stagingDatabase, table, s3UriOf(options, stagedKeyPrefix), positional.sql);
  const token = requestToken([request.runId, request.attemptId, 'stage'], JSON.stringify([sql, literals, options.workGroup]));
  const statement: Statement = { sql, parameters: positional.parameters, token };
  return { table, stagedKeyPrefix, statement, input: startInput(statement, `${request.stagingPrefix}${RESULTS_DIR}`, options) };
}

/** A StartQueryExecution input for a statement, its result files under a store key prefix. */
export function startInput(statement: Statement, resultsKeyPrefix: string, options: BuilderOptions): StartQueryExecutionCommandInput {
  const input: StartQueryExecutionCommandInput = {
    QueryString: statement.sql,
    ClientRequestToken: statement.token,
    WorkGroup: options.workGroup,
    ResultConfiguration: {
      OutputLocation: s3UriOf(options, resultsKeyPrefix),
      // The workgroup does not enforce its settings (CTAS names its own location), so the key is named on each query.
      ...(options.kmsKey ? { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: options.kmsKey } } : {}),
    },
  };
  // Athena refuses an empty list: the field is left out when there is nothing to bind.
  if (statement.parameters.length) input.ExecutionParameters = statement.parameters.map(sqlLiteral);
  if (options.database) input.QueryExecutionContext = { Database: options.database, Catalog: options.catalog ?? 'AwsDataCatalog' };
  return input;
}

/**
 * The engine on AWS: Athena runs the feed SQL once into a Parquet staging table (CTAS), the checks
 * over it, UNLOADs it to Parquet, and selects it as canonical text for CSV. It holds nothing
 * between calls but a client: a StagedTable is everything another instance needs.
 */
export class AthenaEngine implements QueryEngine {
  readonly dialect = athenaDialect;
  private readonly client: AthenaClient;
  private readonly ownsClient: boolean;

  constructor(private readonly options: AthenaEngineOptions) {
    this.ownsClient = !options.client;
    this.client = options.client ?? new AthenaClient({ ...AWS_RETRY, ...options.clientConfig });
  }

  async compileStage(request: StageRequest): Promise<Statement> {
    return athenaStageStatement(request, this.options).statement;
  }

  /**
   * Runs a statement this engine compiled and waits for it. Results go under the attempt's
   * staging prefix (read back from the statement's external location), else the workgroup's.
   */
  async execute(statement: Statement): Promise<Execution> {
    const staging = this.stagingPrefixOf(statement.sql);
    const input =
      staging === undefined
        ? { ...startInput(statement, '', this.options), ResultConfiguration: undefined }
        : startInput(statement, `${staging}${RESULTS_DIR}`, this.options);
    let done: QueryExecution;
    try {
      done = await this.run(input);
    } catch (error) {
      // The table is named after the statement: if it exists, this very statement made it (Athena
      // forgot the token, or the CTAS finished under another one). Its rows are counted later.
      if (staging !== undefined && error instanceof QueryFailedError && TABLE_EXISTS.test(error.message)) {
        return { executionId: null, rows: null, bytesScanned: null, engineMillis: null };
      }
      throw error;
    }
    return this.executionOf(done, /^\s*(CREATE|INSERT|UNLOAD)\b/i.test(statement.sql) ? await this.updateCount(done.QueryExecutionId!) : null);
  }

  async describeStage(request: StageRequest, execution: Execution): Promise<StagedTable> {
    const plan = athenaStageStatement(request, this.options);
    const table = `${quoteIdent(this.options.stagingDatabase)}.${quoteIdent(plan.table)}`;
    const columns = await this.tableColumns(plan.table);
    const partial: StagedTable = { engine: athenaDialect.name, table, location: plan.stagedKeyPrefix, format: 'parquet', rowCount: 0, columns, execution };
    let rows = execution.rows;
    if (rows === null && execution.executionId) rows = await this.updateCount(execution.executionId);
    if (rows === null) {
      const [row] = await this.query(`SELECT count(*) AS n FROM ${table}`, partial);
      rows = Number(row.n);
    }
    return { ...partial, rowCount: rows, execution: { ...execution, rows }, ...(request.orderBy ? { orderBy: request.orderBy } : {}) };
  }

  /** Columns and types of the staging table, from the Glue catalog through Athena. */
  private async tableColumns(table: string): Promise<ColumnSchema[]> {
    const out = await this.client.send(
      new GetTableMetadataCommand({ CatalogName: this.options.catalog ?? 'AwsDataCatalog', DatabaseName: this.options.stagingDatabase, TableName: table }),
    );
    const columns = out.TableMetadata?.Columns;
    if (!columns) throw new QueryFailedError(`Athena reports no columns for the staging table ${this.options.stagingDatabase}.${table}`);
    return columns.map((c) => ({ name: c.Name!, type: engineType(c.Type ?? 'unknown'), nullable: true }));
  }

  async query(sql: string, staged: StagedTable): Promise<Record<string, unknown>[]> {
    const refused = notOneSelect(sql);
    if (refused) throw new QueryFailedError(refused);
    const done = await this.runQuery(stripTrailingSemicolons(sql), staged, 'query');
    const rows: Record<string, unknown>[] = [];
    let names: string[] | undefined;
    let types: string[] = [];
    let nextToken: string | undefined;
    let header = true;
    do {
      const page: GetQueryResultsCommandOutput = await this.client.send(
        new GetQueryResultsCommand({ QueryExecutionId: done.QueryExecutionId, NextToken: nextToken }),
      );
      if (!names) {
        const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
        names = info.map((c) => c.Name ?? c.Label ?? '');
        types = info.map((c) => (c.Type ?? 'varchar').toLowerCase());
      }
      for (const row of page.ResultSet?.Rows ?? []) {
        const data = row.Data ?? [];
        // The first row of a SELECT's first page repeats the column names.
        if (header) {
          header = false;
          if (data.every((d, i) => d.VarCharValue === names![i])) continue;
        }
        rows.push(Object.fromEntries(names.map((name, i) => [name, jsonValue(data[i]?.VarCharValue, types[i])])));
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }

  /**
   * The staged rows as canonical text: a SELECT of canonical expressions, its result CSV read
   * back from the store and parsed as it streams.
   */
  async *streamText(staged: StagedTable, batchRows = 2048): AsyncIterable<(string | null)[][]> {
    const done = await this.runQuery(canonicalSelect(staged.table, staged.columns, staged.orderBy), staged, 'text');
    const key = this.resultKey(done);
    const stream: Readable = await this.options.store.read(key);
    const csv = await readAthenaCsv(stream, { batchRows });
    yield* csv.batches;
  }

  /**
   * UNLOAD to an empty prefix, then each file Athena wrote is moved into place as
   * `part-00000.parquet`, … with its row count read from its footer. `maxRowsPerFile` is met by
   * a partitioned UNLOAD over row numbers (at most 100 partitions, Athena's limit); rows across
   * files are in no particular order, as UNLOAD writes in parallel.
   */
  async exportParquet(staged: StagedTable, options: ParquetExport): Promise<ExportedFile[]> {
    const rowsPerPart = options.maxRowsPerFile;
    if (rowsPerPart && Math.ceil(staged.rowCount / rowsPerPart) > 100) {
      throw new UsageError(
        `formats.parquet.maxRowsPerFile ${rowsPerPart} would split ${staged.rowCount} rows into ${Math.ceil(staged.rowCount / rowsPerPart)} files; Athena's UNLOAD writes at most 100 partitions: raise maxRowsPerFile to at least ${Math.ceil(staged.rowCount / 100)}`,
      );
    }
    const sql = unloadSql(staged.table, '', options.compression, rowsPerPart);
    const identity = JSON.stringify([sql, staged.location, options.prefix]);
    const scratch = `${this.attemptPrefix(staged)}${UNLOAD_DIR}${sha256Hex(identity).slice(0, 16)}/`;
    const unload = unloadSql(staged.table, s3UriOf(this.options, scratch), options.compression, rowsPerPart);
    // A retry of this export finds its UNLOAD (same token); its files are then already moved.
    const token = requestToken([...this.readableOf(staged), 'unload'], JSON.stringify([unload, options.prefix]));
    // The prefix is usually the attempt's staging prefix itself, shared with the staged table,
    // the results and the CSV parts: only its own part files count.
    const parts = (await this.listed(options.prefix)).filter((o) => PART_FILE.test(o.key.slice(options.prefix.length)));
    if (parts.length && !(await this.listed(scratch)).length) return this.describeParts(parts);
    await this.run(startInput({ sql: unload, parameters: [], token }, `${this.attemptPrefix(staged)}${RESULTS_DIR}`, this.options));
    const written = (await this.listed(scratch)).filter((o) => !/(^|\/)[_.][^/]*$/.test(o.key.slice(scratch.length)) && o.size > 0);
    // Partition folders sort by number, not text: dropkit_part=10 after dropkit_part=9.
    written.sort((a, b) => partOf(a.key) - partOf(b.key) || (a.key < b.key ? -1 : 1));
    const files: ExportedFile[] = [];
    for (const [i, object] of written.entries()) {
      const key = options.prefix + dataFileName(i, 'parquet');
      const rows = await this.parquetRows(object.key, object.size);
      await this.options.store.move(object.key, key);
      files.push({ key, rows });
    }
    // No rows, no file: UNLOAD writes nothing for an empty result, and the drop then has no Parquet part.
    if (files.length === 0 && staged.rowCount > 0) throw new QueryFailedError(`Athena's UNLOAD of ${staged.table} wrote no Parquet file under ${scratch}`);
    return files;
  }

  /** A retried export whose files were all moved already: they are the export. */
  private async describeParts(parts: { key: string; size: number }[]): Promise<ExportedFile[]> {
    return Promise.all(parts.map(async (o) => ({ key: o.key, rows: await this.parquetRows(o.key, o.size) })));
  }

  /** Rows of a stored Parquet file from its footer: a ranged read where the store has one, else only the tail is kept. */
  private async parquetRows(key: string, size: number): Promise<number> {
    const length = Math.min(size, FOOTER_READ);
    const ranged = (this.options.store as ObjectStore & { readRange?(key: string, start: number, end: number): Promise<Buffer> }).readRange;
    let tail: Buffer;
    if (ranged) tail = await ranged.call(this.options.store, key, size - length, size);
    else {
      let kept = Buffer.alloc(0);
      for await (const chunk of await this.options.store.read(key)) {
        kept = Buffer.concat([kept, chunk as Buffer]);
        if (kept.length > length) kept = kept.subarray(kept.length - length);
      }
      tail = kept;
    }
    try {
      return parquetRowsFromTail(tail);
    } catch (error) {
      throw new QueryFailedError(`cannot read the row count of ${key}: ${messageOf(error)}`, { cause: error });
    }
  }

  async dropStaged(staged: StagedTable): Promise<void> {
    const token = requestToken([...this.readableOf(staged), 'drop'], staged.table);
    const { database, table } = splitQualifiedName(staged.table);
    await this.run(startInput({ sql: dropTableSql(database, table), parameters: [], token }, `${this.attemptPrefix(staged)}${RESULTS_DIR}`, this.options));
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  /** Runs a read-only query over the staged rows; its results go under the attempt's prefix. */
  private runQuery(sql: string, staged: StagedTable, step: string): Promise<QueryExecution> {
    const token = requestToken([...this.readableOf(staged), step], JSON.stringify([sql, staged.location]));
    return this.run(startInput({ sql, parameters: [], token }, `${this.attemptPrefix(staged)}${RESULTS_DIR}`, this.options));
  }

  /** StartQueryExecution, then GetQueryExecution with growing waits until it ends. */
  private async run(input: StartQueryExecutionCommandInput, again = false): Promise<QueryExecution> {
    const started = await this.client.send(new StartQueryExecutionCommand(input));
    const id = started.QueryExecutionId!;
    const deadline = Date.now() + (this.options.maxWaitMs ?? 30 * 60_000);
    let wait = this.options.pollIntervalMs ?? 500;
    for (let poll = 0; ; poll++) {
      const { QueryExecution: execution } = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED') return execution!;
      if (state === 'CANCELLED' && poll === 0 && !again) {
        // Cancelled before this call looked: the token's query was stopped by an earlier try at its time bound. Run it again under a new token.
        return this.run({ ...input, ClientRequestToken: `${input.ClientRequestToken!.slice(0, 120)}-again` }, true);
      }
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
        throw new QueryFailedError(`Athena query ${id} ${state === 'FAILED' ? 'failed' : 'was cancelled'}: ${reason}`);
      }
      if (Date.now() + wait > deadline) {
        // Not left running (and billed) for nobody: best effort, the error below is what matters.
        await Promise.resolve()
          .then(() => this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })))
          .catch(() => undefined);
        throw new QueryFailedError(
          `Athena query ${id} is still ${state ?? 'unknown'} after ${Math.round((this.options.maxWaitMs ?? 30 * 60_000) / 1000)} s; raise maxWaitMs or look at it in the ${this.options.workGroup} workgroup`,
        );
      }
      const left = this.options.timeLeftMs?.();
      if (left !== undefined && wait > left) {
        await Promise.resolve()
          .then(() => this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })))
          .catch(() => undefined);
        throw new StepTimeBudgetError(
          `Athena query ${id} is still ${state ?? 'unknown'} when the step's time runs out; it was stopped and the step is tried again`,
        );
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 5000);
    }
  }

  /** Rows a CTAS / UNLOAD / INSERT wrote, from its result's UpdateCount. */
  private async updateCount(executionId: string): Promise<number | null> {
    const out = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: executionId, MaxResults: 1 }));
    return typeof out.UpdateCount === 'number' ? out.UpdateCount : null;
  }

  private executionOf(execution: QueryExecution, rows: number | null): Execution {
    const stats = execution.Statistics;
    return {
      executionId: execution.QueryExecutionId ?? null,
      rows,
      bytesScanned: stats?.DataScannedInBytes ?? null,
      engineMillis: stats?.EngineExecutionTimeInMillis ?? null,
    };
  }

  /** The store key of a finished query's result CSV. */
  private resultKey(execution: QueryExecution): string {
    const uri = execution.ResultConfiguration?.OutputLocation;
    const key = uri ? storeKeyOf(this.options, uri) : undefined;
    if (!key) {
      throw new QueryFailedError(
        `Athena wrote the result of ${execution.QueryExecutionId} to ${uri ?? 'no location'}, outside the store s3://${this.options.bucket}/${this.options.prefix ?? ''}; ` +
          `the workgroup ${this.options.workGroup} probably enforces its own result location: let queries set it, or point the store at that bucket`,
      );
    }
    return key;
  }

  /** The attempt's staging prefix: the staged location is `<stagingPrefix>staged/<table>/`. */
  private attemptPrefix(staged: StagedTable): string {
    const at = staged.location.lastIndexOf(`/${STAGED_DIR}`);
    return at === -1 ? staged.location : staged.location.slice(0, at + 1);
  }

  /** Run and attempt, for the readable head of a token, from the staged location `…/_staging/<run>/<attempt>/…`. */
  private readableOf(staged: StagedTable): string[] {
    const parts = this.attemptPrefix(staged).split('/').filter(Boolean);
    return parts.slice(-2);
  }

  private stagingPrefixOf(sql: string): string | undefined {
    const location = /external_location = '((?:[^']|'')*)'/.exec(sql)?.[1]?.replace(/''/g, "'");
    const key = location ? storeKeyOf(this.options, location) : undefined;
    const at = key?.lastIndexOf(`/${STAGED_DIR}`) ?? -1;
    return key && at !== -1 ? key.slice(0, at + 1) : undefined;
  }

  private async listed(prefix: string): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    for await (const o of this.options.store.list(prefix)) out.push(o);
    return out;
  }
}

function partOf(key: string): number {
  const m = new RegExp(`${PART_COLUMN}=(\\d+)/`).exec(key);
  return m ? Number(m[1]) : 0;
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint', 'double', 'float', 'real']);

/** A GetQueryResults value as JSON: numbers for integer and floating columns (while exact), text otherwise. */
function jsonValue(text: string | undefined, type: string): unknown {
  if (text === undefined) return null;
  if (!NUMERIC.has(type)) return text;
  const n = Number(text);
  if (!Number.isFinite(n)) return text; // NaN, Infinity: kept as Athena wrote them
  if (type !== 'double' && type !== 'float' && type !== 'real' && !Number.isSafeInteger(n)) return text;
  return n;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
