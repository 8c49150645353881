import type { CsvDialect } from '../core/feed/feed-schema';

/**
 * The engine that runs a feed's SQL: DuckDB locally, Athena on AWS. Typed only as far as the
 * pipeline uses it. Everything a step hands to the next (`StagedTable`) is plain JSON, so on AWS it
 * can travel between Lambda invocations through Step Functions.
 */

/** A bound query parameter. Values are never spliced into SQL text. */
export interface QueryParameter {
  readonly name: string;
  readonly type: 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';
  /** TIMESTAMP values are ISO-8601 UTC strings. */
  readonly value: string | number | boolean;
}

export interface ColumnSchema {
  readonly name: string;
  /** The engine's type name, e.g. `BIGINT`, `DECIMAL(18,2)`, `TIMESTAMP WITH TIME ZONE`. */
  readonly type: string;
  readonly nullable: boolean;
}

export interface StagedTable {
  readonly engine: string;
  /** Table name, quoted and qualified as the engine needs it in SQL. */
  readonly table: string;
  readonly rowCount: number;
  readonly columns: readonly ColumnSchema[];
  readonly executionId: string | null;
  readonly bytesScanned: number | null;
}

export interface StageRequest {
  readonly runId: string;
  readonly sql: string;
  readonly parameters: readonly QueryParameter[];
}

/** A file the engine wrote, still outside the store. */
export interface ExportedFile {
  /** Local path of the file (the engine writes to a local work folder). */
  readonly path: string;
  readonly rows: number;
}

export interface ParquetExport {
  readonly compression: 'zstd' | 'snappy' | 'gzip' | 'uncompressed';
  readonly maxRowsPerFile?: number;
  /** Folder to write into; files are named part-00000.parquet, part-00001.parquet, ... */
  readonly dir: string;
}

export interface QueryEngine {
  readonly name: 'duckdb' | 'athena';
  /** Runs the feed query once into a staging table. Re-staging the same runId replaces it. */
  stage(request: StageRequest): Promise<StagedTable>;
  /** Runs a small query (check metrics) and returns its rows with JSON-safe values. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /**
   * Streams the staged rows in batches, every value rendered as text in the canonical form
   * (decimals exact, timestamps ISO-8601 UTC, booleans true/false) or null.
   */
  streamText(table: StagedTable, batchRows?: number): AsyncIterable<(string | null)[][]>;
  /** Writes the staged table as Parquet files. */
  exportParquet(table: StagedTable, options: ParquetExport): Promise<ExportedFile[]>;
  /**
   * Optional fast path: writes the staged table as CSV part files (`part-00000.csv`, … in `dir`)
   * whose bytes equal what the Node CSV writer would produce for `dialect`, BOM and header
   * included, split exactly like it by `maxRowsPerFile`. Files are written uncompressed: when the
   * dialect gzips, the caller compresses while storing. Resolves to undefined, writing nothing,
   * when the engine cannot guarantee identical bytes for this dialect; the caller then uses the
   * Node writer.
   */
  exportCsv?(table: StagedTable, dialect: CsvDialect, dir: string): Promise<ExportedFile[] | undefined>;
  /** Drops the staging table. Idempotent. */
  dropStaged(table: StagedTable): Promise<void>;
  close(): Promise<void>;
}
