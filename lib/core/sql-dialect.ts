import type { SqlLexDialect } from './sql-text';

/**
 * An engine's SQL dialect: what core asks whenever the SQL it writes or judges differs between
 * engines. Each engine brings its own (the QueryEngine port's `dialect`), kept in its adapter
 * folder (`lib/adapters/<engine>/<engine>-dialect.ts`) and listed in `lib/engines.ts`; core never
 * switches on an engine's name.
 */
export interface SqlDialect {
  /**
   * The engine's name as users write it: the key of its SQL under a feed's `query:` (`sql[name]`),
   * `--engine`, and the manifest's `query.engine`.
   */
  readonly name: string;
  /** How messages to users name the engine (`DuckDB`, `Athena`). */
  readonly label: string;
  /** How the engine's lexer reads SQL text: every security decision on SQL it runs uses these rules. */
  readonly lexing: SqlLexDialect;
  /**
   * How the engine takes query parameters: `named` binds `$name` anywhere; `positional-in-where`
   * takes `?` in order, and only inside a WHERE clause (Athena's execution parameters).
   */
  readonly parameterStyle: 'named' | 'positional-in-where';
  quoteIdent(name: string): string;
  /** A string literal. */
  string(text: string): string;
  /** A UTC timestamp literal from an ISO-8601 instant. */
  timestamp(iso: string): string;
  /** true when `expr` matches the regular expression `pattern` anywhere (use ^…$ to anchor). */
  regexMatches(expr: string, pattern: string): string;
  /** Length in characters. */
  length(expr: string): string;
  /**
   * How the engine's staged table reports a declared type (normalised): the schema check compares
   * these. Athena stages into Hive tables, which keep no time zone and no varchar length.
   */
  stagedType(normalisedType: string): string;
  /** Whether staged column names come back lower-cased (Glue), so a contract's names compare case-insensitively. */
  readonly foldsNames: boolean;
  /** Approximate count of distinct non-NULL values (HyperLogLog). */
  approxDistinct(expr: string): string;
  /** Approximate quantiles of a DOUBLE expression at `levels`, as one comma-separated text value (arrays travel badly through Athena's CSV results). */
  quantiles(expr: string, levels: readonly number[]): string;
  /** Seconds since the epoch (DOUBLE) of a DATE or TIMESTAMP column of the given type. */
  epochSeconds(expr: string, type: string): string;
  /**
   * The fix when the engine cannot stage a column of this declared type (a `schema` check's type
   * name, any spelling); undefined when it can. Absent: the engine stages every type.
   */
  stagingFix?(type: string): string | undefined;
}

/** `TIMESTAMP '…'` text of an ISO-8601 instant: UTC, no zone, no `T` (what DuckDB and Trino both read). */
export function utcTimestampText(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
}
