import { utcTimestampText } from '../../core/sql-dialect';
import { quoteIdent, STANDARD_LEXING, stringLiteral } from '../../core/sql-text';
import { normaliseType } from '../../core/checks/schema';
import type { SemanticDialect } from '../../semantic/dialect';

/** The semantic layer's day spine starts here, built without parameters so it can stand in FROM. */
const SPINE_START = '1970-01-01';

/**
 * Types Athena cannot stage: its CTAS writes a Hive table, which has no column of these types
 * (Athena refuses the statement). A deployable feed casts them in its Athena SQL.
 */
const NOT_STAGEABLE: readonly { readonly type: RegExp; readonly fix: string }[] = [
  { type: /^TIME( WITH TIME ZONE)?$|^TIME\(/, fix: 'CAST it AS VARCHAR (or combine it with a date into a TIMESTAMP) in the Athena SQL, and declare that type' },
  { type: /^(JSON|UUID|IPADDRESS|IPPREFIX)$/, fix: 'CAST it AS VARCHAR in the Athena SQL, and declare VARCHAR' },
  { type: /^INTERVAL /, fix: 'turn it into a number (e.g. date_diff) in the Athena SQL, and declare BIGINT' },
];

/**
 * Athena's (Trino's) SQL dialect: what the checks, the profile and the semantic compiler write for
 * it, and how its lexer reads SQL (the standard's: no E-strings, no nested comments, no dollar
 * quotes). Pure (no AWS SDK import).
 */
export const athenaDialect: SemanticDialect = {
  name: 'athena',
  label: 'Athena',
  lexing: STANDARD_LEXING,
  parameterStyle: 'positional-in-where',
  quoteIdent,
  string: stringLiteral,
  timestamp: (iso) => `TIMESTAMP ${stringLiteral(utcTimestampText(iso))}`,
  regexMatches: (expr, pattern) => `regexp_like(${expr}, ${stringLiteral(pattern)})`,
  length: (expr) => `length(${expr})`,
  // A Hive table stores TIMESTAMP WITH TIME ZONE as a UTC timestamp, any precision as millis, VARCHAR(n) as string.
  stagedType: (type) => type.replace(/^TIMESTAMP(\(\d+\))?( WITH TIME ZONE)?$/, 'TIMESTAMP').replace(/^VARCHAR\(\d+\)$/, 'VARCHAR'),
  foldsNames: true,
  approxDistinct: (expr) => `approx_distinct(${expr})`,
  quantiles: (expr, levels) => `array_join(approx_percentile(${expr}, ARRAY[${levels.join(', ')}]), ',')`,
  // to_unixtime takes a timestamp; a DATE is cast to one (midnight UTC) first.
  epochSeconds: (expr, type) => (/^date$/i.test(type.trim()) ? `to_unixtime(CAST(${expr} AS TIMESTAMP))` : `to_unixtime(${expr})`),
  stagingFix: (type) => NOT_STAGEABLE.find((n) => n.type.test(normaliseType(type)))?.fix,
  dateTrunc: (grain, expr) => `date_trunc('${grain}', ${expr})`,
  toDouble: (expr) => `CAST(${expr} AS DOUBLE)`,
  toTimestamp: (expr) => `CAST(${expr} AS TIMESTAMP)`,
  addInterval: (expr, count, unit) => `date_add('${unit}', ${count}, ${expr})`,
  // Trino's sequence() stops at 10,000 elements: 100 x 1,000 days instead.
  daySpine: (column) =>
    `(SELECT date_add('day', hi * 1000 + lo, TIMESTAMP '${SPINE_START} 00:00:00') AS ${quoteIdent(column)} FROM UNNEST(sequence(0, 99)) AS h(hi) CROSS JOIN UNNEST(sequence(0, 999)) AS l(lo))`,
};
