import { stringify, type Options as StringifyOptions } from 'csv-stringify/sync';
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
 * - `quoted_match`: '' when nullText is '' (so '' and NULL differ), and a leading U+FEFF.
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
  if (nullText !== '') {
    const forceQuote = { value: nullText, quoted: true };
    const cast: NonNullable<StringifyOptions['cast']> = { null: () => nullText, undefined: () => nullText };
    if (!all) cast.string = (value) => (value === nullText ? forceQuote : value);
    options.cast = cast;
  }
  return stringify(rows as (string | null)[][], options);
}

/** What one part holds, uncompressed: BOM, header, records. */
export function referencePart(columns: readonly string[], rows: readonly Row[], dialect: CsvDialect): Buffer {
  const bom = dialect.encoding === 'utf-8-bom' ? '\uFEFF' : '';
  const header = dialect.header ? referenceRecords([columns], dialect) : '';
  return Buffer.from(bom + header + referenceRecords(rows, dialect), 'utf8');
}
