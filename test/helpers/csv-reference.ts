import { stringify, type Options as StringifyOptions } from 'csv-stringify/sync';
import { looksLikeFormula } from '../../lib/core/csv/csv-encoder';
import type { CsvDialect } from '../../lib/core/feed/feed-schema';

type Row = readonly (string | null)[];

/**
 * The reference rendering of records in a dialect, by csv-stringify (the writer's former engine,
 * now the tests' oracle). Options are set on purpose, several against its defaults:
 * - `escape` = quote: its escape defaults to `"` whatever the quote is;
 * - `quote_record_delimiter: true`: it defaults to `!record_delimiter`, so passing one would stop
 *   quoting values holding a lone CR or LF;
 * - quoting 'all' uses `quoted_string`, not `quoted`, which would quote the NULL text too;
 * - a non-empty nullText comes from `cast.null`, and a string equal to it is forced `quoted`;
 * - `quoted_match`: '' when nullText is '' (so '' and NULL differ), and a leading U+FEFF;
 * - `formulas: neutralize`: a formula-like string is cast to a quoted value with ' in front.
 */
export function referenceRecords(rows: readonly Row[], dialect: CsvDialect): string {
  if (rows.length === 0) return '';
  const { delimiter, quote, nullText } = dialect;
  const all = dialect.quoting === 'all';
  const options: StringifyOptions = {
    delimiter,
    quote,
    escape: quote,
    record_delimiter: dialect.lineEnding === 'crlf' ? '\r\n' : '\n',
    quote_record_delimiter: true,
    eof: true,
    header: false,
    bom: false,
    escape_formulas: false,
    quoted: false,
    quoted_string: all,
  };
  if (!all) options.quoted_match = nullText === '' ? [/^$/, /^\uFEFF/] : [/^\uFEFF/];
  const cast: NonNullable<StringifyOptions['cast']> = {};
  if (nullText !== '') {
    const forceQuote = { value: nullText, quoted: true };
    cast.null = () => nullText;
    cast.undefined = () => nullText;
    if (!all) cast.string = (value) => (value === nullText ? forceQuote : value);
  }
  if (dialect.formulas === 'neutralize') {
    // csv-stringify's own escape_formulas neither quotes nor spares numbers held as strings: the
    // predicate is the writer's (tested on its own in csv-formulas.test.ts), the quoting csv-stringify's.
    const otherwise = cast.string;
    cast.string = (value, context) => (looksLikeFormula(value) ? { value: `'${value}`, quoted: true } : otherwise ? otherwise(value, context) : value);
  }
  if (Object.keys(cast).length) options.cast = cast;
  return stringify(rows as (string | null)[][], options);
}

/** What one part holds, uncompressed: BOM, header, records. */
export function referencePart(columns: readonly string[], rows: readonly Row[], dialect: CsvDialect): Buffer {
  const bom = dialect.encoding === 'utf-8-bom' ? '\uFEFF' : '';
  const header = dialect.header ? referenceRecords([columns], dialect) : '';
  return Buffer.from(bom + header + referenceRecords(rows, dialect), 'utf8');
}
