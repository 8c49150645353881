import type { ColumnSchema } from '../../ports/query-engine';
import { quoteIdent } from '../../core/sql-text';
export { quoteIdent, toNumber } from '../../core/sql-text';
// Text read back from DuckDB (canonicalText's results) must keep a leading U+FEFF.
import './duckdb-text-decoding';

/** A SQL string literal (for paths in the project file: configuration, never query parameters). */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

const ISO_SECONDS = `'%Y-%m-%dT%H:%M:%SZ'`;
const ISO_MICROS = `'%Y-%m-%dT%H:%M:%S.%fZ'`;

/** ISO-8601 UTC for a naive timestamp read as UTC; fraction only when there is one, so values stay exact. */
function isoUtc(expr: string): string {
  return `CASE WHEN microsecond(${expr}) % 1000000 = 0 THEN strftime(${expr}, ${ISO_SECONDS}) ELSE strftime(${expr}, ${ISO_MICROS}) END`;
}

function isoUtcNanos(expr: string): string {
  const nanos = `(nanosecond(${expr}) % 1000000000)`;
  return `strftime(${expr}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN ${nanos} = 0 THEN '' ELSE '.' || lpad(CAST(${nanos} AS VARCHAR), 9, '0') END || 'Z'`;
}

/**
 * The canonical text of one column, as every CSV dialect writes it: decimals exact (DuckDB prints
 * DECIMAL with its full scale), floating point shortest round-trip, booleans `true`/`false`,
 * timestamps ISO-8601 UTC, nested types as JSON, blobs as base64.
 */
export function canonicalText(column: ColumnSchema): string {
  const c = quoteIdent(column.name);
  const type = column.type.toUpperCase();
  if (type === 'BOOLEAN') return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
  if (type === 'TIMESTAMP WITH TIME ZONE') return isoUtc(`timezone('UTC', ${c})`);
  // Nanoseconds keep all nine digits (when there is a fraction): never cut to microseconds.
  if (type === 'TIMESTAMP_NS') return isoUtcNanos(c);
  if (type.startsWith('TIMESTAMP')) return isoUtc(`${c}::TIMESTAMP`);
  if (type === 'BLOB') return `to_base64(${c})`;
  if (/\[\]$|\[\d+\]$|^STRUCT|^MAP|^UNION|^JSON/.test(type)) return `to_json(${c})::VARCHAR`;
  return `CAST(${c} AS VARCHAR)`;
}
