import { quoteIdent } from './sql';

/**
 * The few places where DuckDB and Athena (Trino) SQL differ for checks. A check builds its SQL
 * through this, so the same check compiles for either engine.
 */
export interface SqlDialect {
  readonly name: 'duckdb' | 'athena';
  quoteIdent(name: string): string;
  /** A string literal. */
  string(text: string): string;
  /** A UTC timestamp literal from an ISO-8601 instant. */
  timestamp(iso: string): string;
  /** true when `expr` matches the regular expression `pattern` anywhere (use ^…$ to anchor). */
  regexMatches(expr: string, pattern: string): string;
  /** Length in characters. */
  length(expr: string): string;
}

const string = (text: string) => `'${text.replace(/'/g, "''")}'`;
const tsText = (iso: string) => new Date(iso).toISOString().replace('T', ' ').replace('Z', '');

export const duckdbDialect: SqlDialect = {
  name: 'duckdb',
  quoteIdent,
  string,
  timestamp: (iso) => `TIMESTAMP ${string(tsText(iso))}`,
  regexMatches: (expr, pattern) => `regexp_matches(${expr}, ${string(pattern)})`,
  length: (expr) => `length(${expr})`,
};

export const athenaDialect: SqlDialect = {
  name: 'athena',
  quoteIdent,
  string,
  timestamp: (iso) => `TIMESTAMP ${string(tsText(iso))}`,
  regexMatches: (expr, pattern) => `regexp_like(${expr}, ${string(pattern)})`,
  length: (expr) => `length(${expr})`,
};

export function dialectFor(engine: 'duckdb' | 'athena'): SqlDialect {
  return engine === 'duckdb' ? duckdbDialect : athenaDialect;
}
