import { DateTime } from 'luxon';

/** The dialect type lives beside the lexer; each engine's dialect lives in its adapter. */
export type { SqlDialect } from '../sql-dialect';

/**
 * A timestamp or date value as an engine's query() returns it, as an ISO-8601 UTC instant (null if
 * it is not one). DuckDB renders `2024-01-15 05:00:00[.ffffff][+00]`, Athena
 * `2024-01-15 05:00:00.000[ UTC]`; luxon's SQL parser reads both (zoneless values are UTC, the
 * session zone of both engines).
 */
export function readTimestamp(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  const text = String(value);
  const sql = DateTime.fromSQL(text, { zone: 'utc' });
  const parsed = sql.isValid ? sql : DateTime.fromISO(text, { zone: 'utc' });
  return parsed.isValid ? parsed.toUTC().toISO() : null;
}

/** An ISO-8601 date or date-time written in a feed file, as a UTC instant (zoneless means UTC). */
export function isoInstant(text: string): string | null {
  const parsed = DateTime.fromISO(text, { zone: 'utc' });
  return parsed.isValid ? parsed.toUTC().toISO() : null;
}
