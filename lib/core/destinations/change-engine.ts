/**
 * Diff syncs: what changed between the drop a destination last received and this one, computed
 * by the engine from the two drops' Parquet (DuckDB locally, Athena on AWS), never in Node memory.
 */

export interface ChangeFile {
  /** Store key of a Parquet file. */
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface ChangeSet {
  /** Rows whose key is new. On a first sync (no base), every row. */
  readonly inserts: ChangeFile;
  /** Rows whose key was there before with other values. */
  readonly updates: ChangeFile;
  /** Keys that are gone (only the key columns). */
  readonly deletes: ChangeFile;
}

export interface DiffRequest {
  /** Parquet keys of the base drop; null for a first sync. */
  readonly base: readonly string[] | null;
  readonly current: readonly string[];
  readonly primaryKey: readonly string[];
  /** Every column of the current drop, in order. */
  readonly columns: readonly string[];
  /** Where the three files go: `<outPrefix>inserts.parquet`, `updates.parquet`, `deletes.parquet`. */
  readonly outPrefix: string;
}

export interface ChangeEngine {
  diff(request: DiffRequest): Promise<ChangeSet>;
}

/** The three queries of a diff over two relations named `base` and `cur` (as the engine binds them). */
export interface DiffSql {
  readonly inserts: string;
  readonly updates: string;
  readonly deletes: string;
  /** One row, one column `duplicates`: keys that occur more than once in `cur` (a diff over them is meaningless). */
  readonly duplicateKeys: string;
}

/**
 * Compiles a diff into standard SQL that DuckDB and Athena (Trino) both run: anti-joins for
 * inserts and deletes, a join with IS DISTINCT FROM (NULL-safe) for updates. Rows come out ordered
 * by the key, so batches are the same on every attempt and a resumed sync lines up.
 */
export function compileDiffSql(
  columns: readonly string[],
  primaryKey: readonly string[],
  quote: (name: string) => string,
  relations: { base: string; cur: string },
): DiffSql {
  const missing = primaryKey.filter((k) => !columns.includes(k));
  if (missing.length)
    throw new Error(
      `primary key column(s) ${missing.join(', ')} are not in the drop (columns: ${columns.join(', ')}); fix primaryKey in the feed's destination`,
    );
  const on = primaryKey.map((k) => `b.${quote(k)} = c.${quote(k)}`).join(' AND ');
  const order = primaryKey.map((k) => quote(k)).join(', ');
  const all = columns.map((c) => `c.${quote(c)}`).join(', ');
  const values = columns.filter((c) => !primaryKey.includes(c));
  const changed = values.length ? values.map((c) => `b.${quote(c)} IS DISTINCT FROM c.${quote(c)}`).join(' OR ') : 'FALSE';
  const { base, cur } = relations;
  return {
    inserts: `SELECT ${all} FROM ${cur} c WHERE NOT EXISTS (SELECT 1 FROM ${base} b WHERE ${on}) ORDER BY ${primaryKey.map((k) => `c.${quote(k)}`).join(', ')}`,
    updates: `SELECT ${all} FROM ${cur} c JOIN ${base} b ON ${on} WHERE ${changed} ORDER BY ${primaryKey.map((k) => `c.${quote(k)}`).join(', ')}`,
    deletes: `SELECT ${primaryKey.map((k) => `b.${quote(k)}`).join(', ')} FROM ${base} b WHERE NOT EXISTS (SELECT 1 FROM ${cur} c WHERE ${on}) ORDER BY ${primaryKey.map((k) => `b.${quote(k)}`).join(', ')}`,
    duplicateKeys: `SELECT count(*) AS duplicates FROM (SELECT ${order} FROM ${cur} GROUP BY ${order} HAVING count(*) > 1) d`,
  };
}
