import { athenaDialect as athenaChecks, duckdbDialect as duckdbChecks, type SqlDialect } from '../core/checks/dialect';
import type { Granularity } from './semantic-schema';

/**
 * What differs between the engines' SQL in the semantic compiler's output: one plan, rendered
 * through one of these. It extends the checks' dialect (identifier quoting, literals) with the
 * time arithmetic the compiler needs.
 */
export interface SemanticDialect extends SqlDialect {
  dateTrunc(grain: Granularity, expr: string): string;
  /** `expr` moved by `count` units (negative: back). */
  addInterval(expr: string, count: number, unit: Granularity): string;
  toDouble(expr: string): string;
  toTimestamp(expr: string): string;
  /**
   * A relation with one TIMESTAMP column per day over a range wide enough for any slot; the
   * caller narrows it in WHERE (Athena takes query parameters only there).
   */
  daySpine(column: string): string;
}

/** The spine's span: 1970 to past 2240, built without parameters so it can stand in FROM. */
const SPINE_START = '1970-01-01';
const common = {
  dateTrunc: (grain: Granularity, expr: string) => `date_trunc('${grain}', ${expr})`,
  toDouble: (expr: string) => `CAST(${expr} AS DOUBLE)`,
  toTimestamp: (expr: string) => `CAST(${expr} AS TIMESTAMP)`,
};

export const duckdbDialect: SemanticDialect = {
  ...duckdbChecks,
  ...common,
  addInterval: (expr, count, unit) => {
    // DuckDB has no QUARTER interval literal: three months.
    const [n, u] = unit === 'quarter' ? [count * 3, 'month'] : [count, unit];
    return `(${expr} ${n < 0 ? '-' : '+'} INTERVAL ${Math.abs(n)} ${u.toUpperCase()})`;
  },
  daySpine: (column) =>
    `(SELECT CAST(range AS TIMESTAMP) AS ${duckdbChecks.quoteIdent(column)} FROM range(TIMESTAMP '${SPINE_START}', TIMESTAMP '2240-01-01', INTERVAL 1 DAY))`,
};

export const athenaDialect: SemanticDialect = {
  ...athenaChecks,
  ...common,
  addInterval: (expr, count, unit) => `date_add('${unit}', ${count}, ${expr})`,
  // Trino's sequence() stops at 10,000 elements: 100 x 1,000 days instead.
  daySpine: (column) =>
    `(SELECT date_add('day', hi * 1000 + lo, TIMESTAMP '${SPINE_START} 00:00:00') AS ${athenaChecks.quoteIdent(column)} FROM UNNEST(sequence(0, 99)) AS h(hi) CROSS JOIN UNNEST(sequence(0, 999)) AS l(lo))`,
};

export const DIALECTS = { duckdb: duckdbDialect, athena: athenaDialect } as const;
