import type { SqlDialect } from '../core/sql-dialect';
import type { Granularity } from './semantic-schema';

/**
 * What differs between the engines' SQL in the semantic compiler's output: one plan, rendered
 * through one of these. It extends the checks' dialect (identifier quoting, literals) with the
 * time arithmetic the compiler needs. Each engine's lives in its adapter folder
 * (`lib/adapters/<engine>/<engine>-dialect.ts`); `lib/engines.ts` lists them.
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
