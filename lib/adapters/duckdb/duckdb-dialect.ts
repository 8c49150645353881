import { utcTimestampText } from '../../core/sql-dialect';
import { POSTGRES_LEXING, quoteIdent, stringLiteral } from '../../core/sql-text';
import type { SemanticDialect } from '../../semantic/dialect';

/** The semantic layer's day spine starts here, built without parameters so it can stand in FROM. */
const SPINE_START = '1970-01-01';

/**
 * DuckDB's SQL dialect: what the checks, the profile and the semantic compiler write for it, and
 * how its lexer reads SQL. Pure (no DuckDB import), so edges that only compile SQL stay light.
 */
export const duckdbDialect: SemanticDialect = {
  name: 'duckdb',
  label: 'DuckDB',
  lexing: POSTGRES_LEXING,
  parameterStyle: 'named',
  quoteIdent,
  string: stringLiteral,
  timestamp: (iso) => `TIMESTAMP ${stringLiteral(utcTimestampText(iso))}`,
  regexMatches: (expr, pattern) => `regexp_matches(${expr}, ${stringLiteral(pattern)})`,
  length: (expr) => `length(${expr})`,
  stagedType: (type) => type,
  foldsNames: false,
  approxDistinct: (expr) => `approx_count_distinct(${expr})`,
  // Used only where the engine's own profile (duckdb-profile.ts) cannot run (rows staged as a table).
  // Not reservoir_quantile: on a parallel scan it keeps about the first 8192 rows one thread saw
  // (deciles of 0..5M came back as 819…7371), which differ from run to run.
  quantiles: (expr, levels) => `array_to_string(approx_quantile(${expr}, [${levels.join(', ')}]), ',')`,
  epochSeconds: (expr) => `epoch(${expr})`,
  dateTrunc: (grain, expr) => `date_trunc('${grain}', ${expr})`,
  toDouble: (expr) => `CAST(${expr} AS DOUBLE)`,
  toTimestamp: (expr) => `CAST(${expr} AS TIMESTAMP)`,
  addInterval: (expr, count, unit) => {
    // DuckDB has no QUARTER interval literal: three months.
    const [n, u] = unit === 'quarter' ? [count * 3, 'month'] : [count, unit];
    return `(${expr} ${n < 0 ? '-' : '+'} INTERVAL ${Math.abs(n)} ${u.toUpperCase()})`;
  },
  daySpine: (column) =>
    `(SELECT CAST(range AS TIMESTAMP) AS ${quoteIdent(column)} FROM range(TIMESTAMP '${SPINE_START}', TIMESTAMP '2240-01-01', INTERVAL 1 DAY))`,
};
