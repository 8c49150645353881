import { DateTime } from 'luxon';
import { DropkitError } from '../../core/errors';

/**
 * Athena (Trino) prints some types differently from dropkit's canonical text (the forms of
 * lib/adapters/duckdb/duckdb-sql.ts `canonicalText`, which every CSV carries):
 *
 * | Athena type | Athena text | canonical text |
 * |---|---|---|
 * | `timestamp`, `timestamp(p)` | `2024-01-15 06:00:00.000` | `2024-01-15T06:00:00Z` (fraction as 6 digits, only when non-zero) |
 * | `timestamp with time zone` | `2024-01-15 07:00:00.000 Europe/Paris` | `2024-01-15T06:00:00Z` |
 * | `decimal(p,s)` | `0.5`, `.5`, `12` | exactly s fraction digits: `0.50`, `12.00` |
 * | `boolean` | `true` / `false` | the same, checked |
 *
 * Every other type's text is returned as it is (doubles and reals differ too, Java's spelling
 * against DuckDB's: the SQL must render those itself). A value that cannot be converted without
 * changing it (say nanoseconds on a microsecond scale) is an error, never rounded.
 *
 * @param type Athena's type name as in the query's result metadata; for decimals
 *   `decimal(precision,scale)` (ColumnInfo's Type, Precision and Scale put together).
 * @param text The value as Athena wrote it (never NULL: NULL stays NULL).
 */
export function canonicalFromAthena(type: string, text: string): string {
  const t = type.trim().toLowerCase();
  if (t === 'boolean') {
    if (text === 'true' || text === 'false') return text;
    throw badValue(type, text, 'true or false');
  }
  const decimal = /^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (decimal) return canonicalDecimal(text, Number(decimal[2]), type);
  if (t === 'timestamp with time zone' || /^timestamp\s*\(\s*\d+\s*\) with time zone$/.test(t)) return canonicalTimestampTz(text, type);
  if (t === 'timestamp' || /^timestamp\s*\(\s*\d+\s*\)$/.test(t)) return canonicalTimestamp(text, type);
  return text;
}

/** Whether canonicalFromAthena may change values of this Athena type (the others pass through). */
export function athenaTypeNeedsCanonical(type: string): boolean {
  const t = type.trim().toLowerCase();
  return t === 'boolean' || t.startsWith('decimal') || t.startsWith('timestamp');
}

function canonicalDecimal(text: string, scale: number, type: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw badValue(type, text, 'a decimal number such as -12.34');
  const [, sign, whole, fraction = ''] = m;
  let digits = fraction;
  if (digits.length > scale) {
    // Digits past the scale are fine only when they are zeros: dropping them changes nothing.
    if (!/^0*$/.test(digits.slice(scale))) throw badValue(type, text, `at most ${scale} fraction digits`);
    digits = digits.slice(0, scale);
  }
  digits = digits.padEnd(scale, '0');
  const integer = whole.replace(/^0+(?=\d)/, '') || '0';
  return `${sign}${integer}${scale > 0 ? `.${digits}` : ''}`;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,12}))?$/;
const TIMESTAMP_TZ = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,12}))? ?(UTC|Z|[+-]\d{2}:\d{2}|[A-Za-z][A-Za-z0-9_+\-/]*)$/;

function canonicalTimestamp(text: string, type: string): string {
  const m = TIMESTAMP.exec(text);
  if (!m) throw badValue(type, text, 'YYYY-MM-DD HH:MM:SS[.fff]');
  return `${m[1]}T${m[2]}${micros(m[3], type, text)}Z`;
}

function canonicalTimestampTz(text: string, type: string): string {
  const m = TIMESTAMP_TZ.exec(text);
  if (!m) throw badValue(type, text, 'YYYY-MM-DD HH:MM:SS[.fff] ZONE');
  const [, date, time, fraction, zone] = m;
  const fractionText = micros(fraction, type, text);
  if (zone === 'UTC' || zone === 'Z' || zone === '+00:00' || zone === '-00:00') return `${date}T${time}${fractionText}Z`;
  // Whole seconds through the zone (offsets are whole minutes), the fraction carried over as is.
  const local = DateTime.fromISO(`${date}T${time}`, { zone: zone.startsWith('+') || zone.startsWith('-') ? `UTC${zone}` : zone });
  if (!local.isValid) throw badValue(type, text, `a known time zone (${local.invalidExplanation ?? local.invalidReason})`);
  return `${local.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss")}${fractionText}Z`;
}

/** `.ffffff` (microseconds, as canonicalText writes them) or '' when the fraction is zero. */
function micros(fraction: string | undefined, type: string, text: string): string {
  if (fraction === undefined || /^0*$/.test(fraction)) return '';
  if (fraction.length > 6 && !/^0*$/.test(fraction.slice(6))) throw badValue(type, text, 'at most microsecond precision (6 fraction digits)');
  return `.${fraction.slice(0, 6).padEnd(6, '0')}`;
}

function badValue(type: string, text: string, expected: string): DropkitError {
  return new DropkitError(`Athena ${type} value ${JSON.stringify(text)} cannot be converted to its canonical text: expected ${expected}`);
}
