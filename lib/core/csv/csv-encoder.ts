import type { CsvDialect } from '../feed/feed-schema';
import { DropkitError } from '../errors';

/** One row of rendered values: text, or null for NULL. */
export type CsvRow = readonly (string | null)[];

/**
 * Renders records of one CSV dialect to text. The rules (the same in DuckDB's export,
 * lib/adapters/duckdb/duckdb-csv.ts, and checked byte for byte against csv-stringify in the tests):
 * - NULL is the null text, bare; any string is written so that it reads back as that string.
 * - quoting 'needed' quotes a value holding the delimiter, the quote, CR or LF, a value equal to
 *   the null text (so '' is quoted when the null text is ''), and a value starting with U+FEFF (a
 *   part beginning with it would otherwise begin with bytes every reader takes for a BOM).
 *   'all' quotes every string, NULL stays bare. A quote inside a quoted value is doubled.
 * - every record, the last included, ends with the dialect's line ending.
 * - `formulas: neutralize` writes a value a spreadsheet would run as a formula quoted, with a '
 *   in front (see `looksLikeFormula`); the default `keep` writes it as it is.
 */
export interface CsvRecordEncoder {
  /** Records `rows[from]` to `rows[to - 1]`, each checked to have one value per column. */
  encode(rows: readonly CsvRow[], from: number, to: number): string;
  /** One field as it is written. */
  field(value: string | null): string;
}

/** Builds the encoder of a dialect; throws a DropkitError for a null text that cannot be written bare. */
export function csvRecordEncoder(dialect: CsvDialect, columns: readonly string[]): CsvRecordEncoder {
  const width = columns.length;
  const { delimiter, quote, nullText } = dialect;
  if ([delimiter, quote, '\r', '\n'].some((c) => nullText.includes(c)) || nullText.startsWith('\uFEFF')) {
    // Such a NULL text would need quotes, and a quoted value reads back as a string.
    throw new DropkitError(
      `csv nullText ${JSON.stringify(nullText)} cannot contain the delimiter, the quote, CR or LF, nor start with U+FEFF: NULL must be written unquoted`,
    );
  }
  if (delimiter.length !== 1 || quote.length !== 1) throw new DropkitError('csv delimiter and quote must be one character each');
  const eol = dialect.lineEnding === 'crlf' ? '\r\n' : '\n';
  const doubled = quote + quote;
  const escape = (v: string): string => (v.indexOf(quote) === -1 ? v : v.replaceAll(quote, doubled));
  const special = new RegExp(`[${escapeClass(delimiter)}${escapeClass(quote)}\\r\\n]`);

  const exact: (value: string | null) => string =
    dialect.quoting === 'all'
      ? (v) => (v === null ? nullText : quote + escape(v) + quote)
      : (v) => {
          if (v === null) return nullText;
          if (v === nullText || special.test(v) || v.charCodeAt(0) === 0xfeff) return quote + escape(v) + quote;
          return v;
        };
  const field: (value: string | null) => string =
    dialect.formulas === 'neutralize' ? (v) => (v !== null && looksLikeFormula(v) ? quote + escape(FORMULA_PREFIX + v) + quote : exact(v)) : exact;

  // A ragged row would shift columns silently.
  const rowError = (row: CsvRow): DropkitError => new DropkitError(`row has ${row.length} values, expected ${width} (${columns.join(', ')})`);

  return {
    field,
    encode(rows, from, to) {
      let out = '';
      for (let r = from; r < to; r++) {
        const row = rows[r];
        if (row.length !== width) throw rowError(row);
        let line = field(row[0]);
        for (let i = 1; i < width; i++) line += delimiter + field(row[i]);
        out += line + eol;
      }
      return out;
    },
  };
}

/**
 * Formula injection (OWASP "CSV Injection"): spreadsheets run a cell starting with = + - @ TAB or
 * CR as a formula, and Apple Numbers folds the fullwidth ＝ ＋ － ＠ into those. Under
 * `formulas: neutralize` such a value is written quoted with a ' in front, which spreadsheets
 * take as "text"; a plain number (-5, +1.5, -1e+300) is left alone: spreadsheets read it as a
 * number, not a formula. The same rule is in DuckDB's export (duckdb-csv.ts).
 */
export const FORMULA_START = '^[=+\\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]';
export const PLAIN_NUMBER = '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$';
export const FORMULA_PREFIX = "'";
const formulaStart = new RegExp(FORMULA_START);
const plainNumber = new RegExp(PLAIN_NUMBER);

/** Whether a spreadsheet would run this value as a formula (see FORMULA_START). */
export function looksLikeFormula(value: string): boolean {
  return formulaStart.test(value) && !plainNumber.test(value);
}

/** A character made literal inside a RegExp character class. */
function escapeClass(c: string): string {
  return /[\\\]^-]/.test(c) ? `\\${c}` : c;
}

type MaybeWellFormed = string & { isWellFormed?: () => boolean };
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * False when `text` holds a lone surrogate: UTF-8 cannot encode one, and Buffer.from would write
 * U+FFFD in its place, changing the value silently. Text from DuckDB or from decoded UTF-8 never
 * does; only a caller building strings by hand can.
 */
export function isWellFormed(text: string): boolean {
  const t = text as MaybeWellFormed;
  return typeof t.isWellFormed === 'function' ? t.isWellFormed() : !LONE_SURROGATE.test(text);
}

/** The error for the first value of `rows` holding a lone surrogate (rows numbered from `firstRow`; 0 is the header). */
export function loneSurrogateError(rows: readonly CsvRow[], columns: readonly string[], firstRow: number): DropkitError {
  for (const [r, row] of rows.entries()) {
    for (const [i, value] of row.entries()) {
      if (value === null || isWellFormed(value)) continue;
      const at = value.search(LONE_SURROGATE);
      return new DropkitError(
        `${firstRow + r === 0 ? 'header' : `row ${firstRow + r}`}, column ${columns[i]}: the value holds a lone UTF-16 surrogate ` +
          `(\\u${value.charCodeAt(at).toString(16)} after ${JSON.stringify(value.slice(Math.max(0, at - 20), at))}), which UTF-8 cannot encode; fix the value at its source`,
      );
    }
  }
  return new DropkitError('a value holds a lone UTF-16 surrogate, which UTF-8 cannot encode');
}
