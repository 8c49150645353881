import type { ColumnSchema } from '../../core/ports/query-engine';
import { quoteIdent, stringLiteral } from '../../core/sql-text';
import { parseDuckDbType, someScalar, type DuckDbType } from './duckdb-types';
export { quoteIdent, toNumber } from '../../core/sql-text';
// Text read back from DuckDB (canonicalText's results) must keep a leading U+FEFF.
import './duckdb-text-decoding';

/** A SQL string literal (for paths in the project file: configuration, never query parameters). */
export const sqlString = stringLiteral;

const ISO_SECONDS = `'%Y-%m-%dT%H:%M:%SZ'`;
const ISO_MICROS = `'%Y-%m-%dT%H:%M:%S.%fZ'`;

/**
 * A timestamp's ISO-8601 text, with strftime's `%Y` for years 0000-9999; outside them ISO-8601's
 * expanded form (a sign, at least four digits: `-0043-…`, `+10000-…`), which strftime does not
 * write (`-43-…`, `10000-…`). Infinities keep DuckDB's `infinity`/`-infinity`.
 */
function isoYears(expr: string, rest: (format: string) => string, from = '0000-01-01', inRange = rest('%Y')): string {
  const year = `year(${expr})`;
  const sign = `CASE WHEN ${year} < 0 THEN '-' || lpad(CAST(-${year} AS VARCHAR), 4, '0') WHEN ${year} <= 9999 THEN lpad(CAST(${year} AS VARCHAR), 4, '0') ELSE '+' || CAST(${year} AS VARCHAR) END`;
  return `CASE WHEN ${expr} >= '${from}' AND ${expr} < '10000-01-01' THEN ${inRange} WHEN NOT isfinite(${expr}) THEN CAST(${expr} AS VARCHAR) ELSE ${sign} || ${rest('')} END`;
}

/** ISO-8601 UTC for a naive timestamp read as UTC; fraction only when there is one, so values stay exact. */
function isoUtc(expr: string): string {
  return isoYears(expr, (y) => {
    const seconds = ISO_SECONDS.replace('%Y', y);
    const micros = ISO_MICROS.replace('%Y', y);
    return `CASE WHEN microsecond(${expr}) % 1000000 = 0 THEN strftime(${expr}, ${seconds}) ELSE strftime(${expr}, ${micros}) END`;
  });
}

function isoUtcNanos(expr: string): string {
  // TIMESTAMP_NS spans 1677-2262: always four-digit years.
  const nanos = `(nanosecond(${expr}) % 1000000000)`;
  return `strftime(${expr}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN ${nanos} = 0 THEN '' ELSE '.' || lpad(CAST(${nanos} AS VARCHAR), 9, '0') END || 'Z'`;
}

function isoDate(expr: string): string {
  // CAST is about twice as fast as strftime, and ISO-8601 for years 0001-9999 (not year 0: `0001-… (BC)`).
  return isoYears(expr, (y) => `strftime(${expr}, '${y}-%m-%d')`, '0001-01-01', `CAST(${expr} AS VARCHAR)`);
}

/**
 * An INTERVAL as an ISO-8601 duration: `P1Y2M-3DT4H5M6.5S`, `PT2000H`, `P-1D`, `PT0S`. DuckDB
 * keeps months, days and microseconds apart, each with its own sign, and so does this text (as
 * PostgreSQL's `iso_8601` interval style): nothing is folded, cut or wrapped.
 */
export function isoDuration(expr: string): string {
  const part = (unit: string) => `datepart('${unit}', ${expr})`;
  const component = (value: string, suffix: string) => `CASE WHEN ${value} <> 0 THEN CAST(${value} AS VARCHAR) || '${suffix}' ELSE '' END`;
  const us = part('microseconds'); // seconds and microseconds within the minute, with the interval's sign
  const seconds =
    `CASE WHEN ${us} <> 0 THEN CASE WHEN ${us} < 0 THEN '-' ELSE '' END || CAST(abs(${us}) // 1000000 AS VARCHAR) || ` +
    `CASE WHEN abs(${us}) % 1000000 <> 0 THEN '.' || rtrim(lpad(CAST(abs(${us}) % 1000000 AS VARCHAR), 6, '0'), '0') ELSE '' END || 'S' ELSE '' END`;
  const time = `${component(part('hour'), 'H')} || ${component(part('minute'), 'M')} || ${seconds}`;
  const date = `${component(part('year'), 'Y')} || ${component(part('month'), 'M')} || ${component(part('day'), 'D')}`;
  const text = `'P' || ${date} || CASE WHEN (${time}) <> '' THEN 'T' || ${time} ELSE '' END`;
  // Not `= INTERVAL 0 SECONDS`: DuckDB compares intervals normalised (1 month = 30 days), so
  // `1 month -30 days` would equal it; only a text with no part at all is zero.
  return `CASE WHEN ${expr} IS NULL THEN NULL ELSE coalesce(nullif(${text}, 'P'), 'PT0S') END`;
}

/** The canonical text of a scalar value of a (upper-cased) type, or undefined when CAST AS VARCHAR is it. */
function scalarText(expr: string, type: string): string | undefined {
  if (type === 'BOOLEAN') return `CASE WHEN ${expr} THEN 'true' WHEN NOT ${expr} THEN 'false' END`;
  if (type === 'TIMESTAMP WITH TIME ZONE') return isoUtc(`timezone('UTC', ${expr})`);
  // Nanoseconds keep all nine digits (when there is a fraction): never cut to microseconds.
  if (type === 'TIMESTAMP_NS') return isoUtcNanos(expr);
  if (type.startsWith('TIMESTAMP')) return isoUtc(`${expr}::TIMESTAMP`);
  if (type === 'DATE') return isoDate(expr);
  if (type === 'INTERVAL') return isoDuration(expr);
  if (type === 'BLOB') return `to_base64(${expr})`;
  return undefined;
}

/** Scalars whose `to_json` differs from their canonical text: a JSON string or number of that text instead. */
const JSON_NEEDS_TEXT = /^(DECIMAL|FLOAT|DOUBLE|REAL|DATE|TIMESTAMP|TIME|INTERVAL|BLOB)/;

/** JSON text of a scalar, NULL for NULL: canonical text as a JSON string, exact numbers as numbers. */
function scalarJson(expr: string, type: string): string {
  // Decimals as their exact digits (to_json goes through DOUBLE: 1.10 → 1.1).
  if (type.startsWith('DECIMAL')) return `CAST(${expr} AS VARCHAR)`;
  // Shortest round-trip digits; NaN and infinities (not JSON numbers) as strings.
  if (/^(FLOAT|DOUBLE|REAL)$/.test(type))
    return `CASE WHEN isfinite(${expr}) THEN CAST(${expr} AS VARCHAR) ELSE to_json(CAST(${expr} AS VARCHAR))::VARCHAR END`;
  const text = scalarText(expr, type);
  return text === undefined ? `to_json(${expr})::VARCHAR` : `to_json(${text})::VARCHAR`;
}

/** JSON text of a nested value, each scalar in its canonical form; SQL NULL for NULL. */
function nestedJson(expr: string, type: DuckDbType, depth: number): string {
  const item = (e: string, t: DuckDbType) => `coalesce(${nestedJson(e, t, depth + 1)}, 'null')`;
  switch (type.kind) {
    case 'scalar':
      return scalarJson(expr, type.text.toUpperCase());
    case 'list': {
      const v = `v${depth}`;
      return `'[' || array_to_string(list_transform(${expr}, lambda ${v}: ${item(v, type.of)}), ',') || ']'`;
    }
    case 'struct': {
      const fields = type.fields.map((f) => `${sqlString(`${JSON.stringify(f.name)}:`)} || ${item(`struct_extract(${expr}, ${sqlString(f.name)})`, f.type)}`);
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE '{' || ${fields.join(` || ',' || `)} || '}' END`;
    }
    case 'map': {
      // As to_json writes a map: an object keyed by each key's text.
      const e = `v${depth}`;
      const key = `to_json(${scalarText(`${e}.key`, type.key.text.toUpperCase()) ?? `CAST(${e}.key AS VARCHAR)`})::VARCHAR`;
      return `'{' || array_to_string(list_transform(map_entries(${expr}), lambda ${e}: ${key} || ':' || ${item(`${e}.value`, type.value)}), ',') || '}'`;
    }
  }
}

/**
 * The canonical text of one column, as every CSV dialect writes it: decimals exact (DuckDB prints
 * DECIMAL with its full scale), floating point shortest round-trip, booleans `true`/`false`,
 * timestamps and dates ISO-8601 UTC, intervals ISO-8601 durations, nested types as JSON (with the
 * same forms inside), blobs as base64.
 */
export function canonicalText(column: ColumnSchema): string {
  const c = quoteIdent(column.name);
  const type = column.type.toUpperCase();
  if (/\[\]$|\[\d+\]$|^STRUCT|^MAP|^UNION|^JSON/.test(type)) {
    const tree = /^(UNION|JSON)/.test(type) ? undefined : parseDuckDbType(column.type);
    // to_json is right (and quicker) unless a scalar inside renders differently from its canonical text.
    if (tree === undefined || !someScalar(tree, (s) => JSON_NEEDS_TEXT.test(s))) return `to_json(${c})::VARCHAR`;
    return nestedJson(c, tree, 0);
  }
  return scalarText(c, type) ?? `CAST(${c} AS VARCHAR)`;
}
