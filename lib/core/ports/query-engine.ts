/**
 * The engine that runs a feed's SQL: DuckDB locally, Athena on AWS. Typed only as far as the
 * pipeline uses it. Engines read and write store keys, never local paths, and everything a step
 * hands to the next (`StagedTable`, `ExportedFile`) is plain JSON: any engine instance of the same
 * kind can pick it up, in another process or another Lambda invocation.
 */

import type { SqlDialect } from '../sql-dialect';

/** An engine's name, as its dialect says it (`dialect.name`); `lib/engines.ts` lists the engines. */
export type EngineName = string;

/** A typed query parameter. Values are never spliced into SQL text. */
export interface QueryParameter {
  readonly name: string;
  readonly type: 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';
  /** TIMESTAMP values are ISO-8601 UTC strings; BIGINT values are safe integers. */
  readonly value: string | number | boolean;
}

/**
 * One statement ready to run: what a state machine hands to Athena as it is. Parameters are
 * positional (`?` in `sql`, in order), so engines that only take positional parameters can run it.
 */
export interface Statement {
  readonly sql: string;
  readonly parameters: readonly QueryParameter[];
  /** Derived from the run attempt and the step: a retried step finds its query instead of starting another. */
  readonly token: string;
  /** Statements without parameters the engine runs first, so any instance of it can run this one (e.g. DuckDB's ATTACH). */
  readonly setup?: readonly string[];
}

/** What running a statement cost, as far as the engine tells. */
export interface Execution {
  readonly executionId: string | null;
  /** Rows the statement wrote, where the engine reports it (DuckDB COPY, Athena CTAS). */
  readonly rows: number | null;
  readonly bytesScanned: number | null;
  readonly engineMillis: number | null;
}

export interface ColumnSchema {
  readonly name: string;
  /** The engine's type name, e.g. `BIGINT`, `DECIMAL(18,2)`, `TIMESTAMP WITH TIME ZONE`. */
  readonly type: string;
  readonly nullable: boolean;
  /**
   * The type the Parquet file holds, where it is not `type` because Parquet cannot hold `type`'s
   * values exactly (DuckDB: HUGEINT as `DECIMAL(38,0)`, INTERVAL and TIME WITH TIME ZONE as
   * `VARCHAR` text). Absent when the file holds `type`.
   */
  readonly parquetType?: string;
}

export interface StagedTable {
  readonly engine: EngineName;
  /** How SQL over the staged rows names them (checks are compiled against it). */
  readonly table: string;
  /** Where the staged rows live in the store: a key or a prefix under the run's staging prefix. */
  readonly location: string;
  /** Engine-specific shape of what is at `location`, e.g. `parquet` or `duckdb` for DuckDB. */
  readonly format: string;
  readonly rowCount: number;
  readonly columns: readonly ColumnSchema[];
  readonly execution: Execution;
  /** The order rows are read back in for files (the feed's `orderBy`), if any. */
  readonly orderBy?: readonly string[];
}

export interface StageRequest {
  readonly runId: string;
  /** The run attempt: names the staging prefix and idempotency tokens. */
  readonly attemptId: string;
  /** Store prefix that belongs to this attempt alone (ends with `/`). */
  readonly stagingPrefix: string;
  /** The feed SQL with `$name` parameters. */
  readonly sql: string;
  readonly parameters: readonly QueryParameter[];
  /** Columns that order the rows of every file (the feed's `orderBy`), if any. */
  readonly orderBy?: readonly string[];
}

/** A file the engine wrote into the store, under the prefix it was given. */
export interface ExportedFile {
  readonly key: string;
  readonly rows: number;
  /** Bytes and SHA-256 of the stored object when the engine had them on the way; else the caller reads the object. */
  readonly bytes?: number;
  readonly sha256?: string;
}

export interface ParquetExport {
  readonly compression: 'zstd' | 'snappy' | 'gzip' | 'uncompressed';
  readonly maxRowsPerFile?: number;
  /** Store prefix to write into; files are named part-00000.parquet, part-00001.parquet, ... */
  readonly prefix: string;
}

export interface CsvExport {
  readonly dialect: import('../feed/feed-schema').CsvDialect;
  /** Store prefix to write into; files are named as `csvFileName` says. */
  readonly prefix: string;
}

export interface QueryEngine {
  /**
   * The engine's SQL dialect: its name (which of a feed's SQL files it runs), quoting, literals,
   * lexing and the SQL pieces of checks and profiles. Core asks it; it never switches on a name.
   */
  readonly dialect: SqlDialect;
  /**
   * The stage step as one statement, nothing run yet: the feed query, once, into staging under
   * `request.stagingPrefix` (Athena: CTAS; DuckDB: COPY to Parquet, or a table in a database file).
   * On AWS the state machine hands it to Athena itself.
   */
  compileStage(request: StageRequest): Promise<Statement>;
  /** Runs a statement this engine compiled, to completion. Re-running the same attempt replaces its result. */
  execute(statement: Statement): Promise<Execution>;
  /** What a finished stage statement produced: rows, columns and where they are. */
  describeStage(request: StageRequest, execution: Execution): Promise<StagedTable>;
  /** Runs a small read-only query (check metrics) over the staged rows; values are JSON-safe. */
  query(sql: string, staged: StagedTable): Promise<Record<string, unknown>[]>;
  /**
   * Streams the staged rows in batches, every value rendered as text in the canonical form
   * (decimals exact, timestamps ISO-8601 UTC, booleans true/false) or null.
   */
  streamText(staged: StagedTable, batchRows?: number): AsyncIterable<(string | null)[][]>;
  /** Writes the staged rows as Parquet files into the store. */
  exportParquet(staged: StagedTable, options: ParquetExport): Promise<ExportedFile[]>;
  /**
   * Optional fast path: writes the staged rows as CSV part files whose bytes equal what the Node
   * CSV writer produces for the dialect (BOM, header, gzip and row splits included). Resolves to
   * undefined, writing nothing, when the engine cannot guarantee identical bytes; the caller then
   * uses the Node writer over `streamText`.
   */
  exportCsv?(staged: StagedTable, options: CsvExport): Promise<ExportedFile[] | undefined>;
  /**
   * Optional fast path: the drop's profile aggregates (the row `readProfile` reads) computed more
   * cheaply than by `profileExpressions` in the checks' scan, e.g. from the staged files' metadata
   * and a sample of rows. Resolves to undefined when it cannot; the checks' scan then computes them.
   */
  profile?(staged: StagedTable): Promise<Record<string, unknown> | undefined>;
  /** Releases what the engine holds for the staged rows (tables, views). The store prefix is the caller's to delete. */
  dropStaged(staged: StagedTable): Promise<void>;
  close(): Promise<void>;
}
