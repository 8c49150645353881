import { FORMULA_PREFIX, FORMULA_START, looksLikeFormula, PLAIN_NUMBER } from '../../core/csv/csv-encoder';
import type { CsvDialect } from '../../core/feed/feed-schema';
import type { ColumnSchema } from '../../core/ports/query-engine';
import { canonicalText, quoteIdent, sqlString } from './duckdb-sql';

/**
 * CSV written by DuckDB's `COPY … (FORMAT csv)` with exactly the bytes of the Node writer
 * (lib/core/csv/csv-writer.ts, rules in csv-encoder.ts), or not at all.
 *
 * What DuckDB 1.5.6's writer does by itself, compared byte for byte with the Node writer:
 * - it quotes a value holding the delimiter, the quote, CR or LF, or equal to NULLSTR (so '' is
 *   quoted when NULLSTR is ''), doubles the quote inside, writes NULL as bare NULLSTR: as we do
 *   (we also quote a value starting with U+FEFF, which DuckDB does not);
 * - but it also quotes every value containing `#`, whatever COMMENT is set to (hard-wired in
 *   csv_writer.cpp: `requires_quotes['#'] = true`); the Node writer does not;
 * - `FORCE_QUOTE *` quotes header names too and leaves NULL bare: as we do;
 * - `NEW_LINE '\r\n'` ends records (header included) with CRLF, leaving LF inside values alone,
 *   with a terminator after the last record (we always pass NEW_LINE: LF or CRLF);
 * - no BOM option, and PREFIX cannot be combined with HEADER.
 *
 * Two ways, then:
 * - `native`: DuckDB quotes by itself, which gives the Node writer's bytes whenever no value holds
 *   `#` or U+FEFF. That is known only once the values are read, so the engine tries it first where
 *   the dialect allows (`nativeQuotingFits`) and watches the bytes as DuckDB writes them
 *   (`NativeQuotingCheck`): at the first `#` or U+FEFF it stops the COPY and writes the part again
 *   the `sql` way. The quote test in SQL costs about 0.9 CPU-s per 5M rows of three text columns.
 * - `sql`: DuckDB's quoting is switched off (`QUOTE ''`: it then writes values raw) and each field
 *   is quoted here in SQL by the Node writer's rules; DuckDB still writes delimiters, NULLSTR for
 *   NULL and line ends. The header line is the column aliases, rendered by the same rules, with the
 *   BOM in front of the first one.
 * Any dialect outside what the tests compare byte for byte against the Node writer is declined.
 */

/** Who quotes the fields of a DuckDB CSV export (see above). */
export type CsvQuoting = 'native' | 'sql';

/** Delimiters and quotes compared against the Node writer in the tests; anything else is declined. */
const DELIMITERS = new Set([',', ';', '\t', '|']);
const QUOTES = new Set(['"', "'"]);

/**
 * Types whose canonical text is never empty and holds only digits, letters, spaces and
 * `.:+-()`: never one of DELIMITERS, QUOTES, CR or LF, so only equality with the NULL text can
 * make them need quotes. Spares the per-value scans on the wide numeric and time columns.
 */
const PLAIN_TYPES =
  /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|DATE|TIME|TIME WITH TIME ZONE|TIMESTAMP|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMP WITH TIME ZONE|UUID|INTERVAL)$/;

/** Why DuckDB cannot write this dialect with the Node writer's bytes, or undefined when it can. */
export function csvDeclineReason(columns: readonly ColumnSchema[], dialect: CsvDialect): string | undefined {
  if (columns.length === 0) return 'no columns (the Node writer reports the error)';
  if (dialect.maxBytesPerFile !== undefined) return 'maxBytesPerFile: split points depend on the encoded bytes';
  if (!DELIMITERS.has(dialect.delimiter)) return `delimiter ${JSON.stringify(dialect.delimiter)} is not one of the compared ones`;
  if (!QUOTES.has(dialect.quote)) return `quote ${JSON.stringify(dialect.quote)} is not one of the compared ones`;
  // NULLSTR is written raw; keep it to printable ASCII (the schema already bars delimiter, quote, CR, LF).
  if (!/^[\x20-\x7e]*$/.test(dialect.nullText)) return 'nullText outside printable ASCII';
  // The BOM rides in front of the first header name; without a header there is no place for it.
  if (dialect.encoding === 'utf-8-bom' && !dialect.header) return 'a BOM without a header';
  return undefined;
}

/**
 * The `COPY (…) TO file (…)` statement writing `source` (a table, or a parenthesised query over
 * it) in `dialect`. Only for dialects `csvDeclineReason` accepts.
 */
export function csvCopySql(source: string, columns: readonly ColumnSchema[], dialect: CsvDialect, path: string, quoting: CsvQuoting = 'sql'): string {
  // DuckDB reads the escaped spelling.
  const lineEnd = `NEW_LINE ${dialect.lineEnding === 'crlf' ? `'\\r\\n'` : `'\\n'`}`;
  if (quoting === 'native') {
    const bom = dialect.encoding === 'utf-8-bom';
    const fields = columns.map((c, i) => `${canonicalText(c)} AS ${quoteIdent((bom && i === 0 ? '\ufeff' : '') + c.name)}`).join(', ');
    const options = [
      'FORMAT csv',
      `HEADER ${dialect.header}`,
      `DELIMITER ${sqlString(dialect.delimiter)}`,
      `QUOTE ${sqlString(dialect.quote)}`,
      `ESCAPE ${sqlString(dialect.quote)}`,
      `NULLSTR ${sqlString(dialect.nullText)}`,
      ...(dialect.quoting === 'all' ? ['FORCE_QUOTE *'] : []),
      lineEnd,
    ];
    return `COPY (SELECT ${fields} FROM ${source}) TO ${sqlString(path)} (${options.join(', ')})`;
  }
  // Canonical text first, under positional names, so each is computed once however often the
  // quoting expression refers to it.
  const texts = columns.map((c, i) => `${canonicalText(c)} AS c${i}`).join(', ');
  const fields = columns
    .map((c, i) => {
      const header = headerField(c.name, dialect, i === 0 && dialect.encoding === 'utf-8-bom');
      return `${fieldSql(`c${i}`, c, dialect)} AS ${quoteIdent(header)}`;
    })
    .join(', ');
  const options = [
    'FORMAT csv',
    `HEADER ${dialect.header}`,
    `DELIMITER ${sqlString(dialect.delimiter)}`,
    // No quoting by DuckDB: fields arrive quoted already (see above).
    `QUOTE ''`,
    `ESCAPE ''`,
    `NULLSTR ${sqlString(dialect.nullText)}`,
    lineEnd,
  ];
  return `COPY (SELECT ${fields} FROM (SELECT ${texts} FROM ${source})) TO ${sqlString(path)} (${options.join(', ')})`;
}

/**
 * Whether DuckDB's own quoting can give the Node writer's bytes for this dialect and these names,
 * given values without `#` or U+FEFF (which NativeQuotingCheck watches for). Not with formulas
 * neutralized (the prefix is added in SQL); not when the BOM rides in front of a first name that
 * is quoted (DuckDB would put the BOM inside the quotes). Quoting as needed, not when the NULL
 * text or a header name holds `#` or starts with U+FEFF (quoting all, both quote every name and
 * value, and write NULL bare).
 */
export function nativeQuotingFits(columns: readonly ColumnSchema[], dialect: CsvDialect): boolean {
  if (dialect.formulas === 'neutralize') return false;
  const bom = dialect.encoding === 'utf-8-bom' && dialect.header;
  if (dialect.quoting === 'all') return !bom;
  if (dialect.nullText.includes('#')) return false;
  if (!dialect.header) return true;
  if (columns.some((c) => c.name.includes('#') || c.name.startsWith('\uFEFF'))) return false;
  return !bom || headerField(columns[0].name, dialect, false) === columns[0].name;
}

/** U+FEFF in UTF-8. */
const FEFF_UTF8 = Buffer.from([0xef, 0xbb, 0xbf]);
const HASH = 0x23;

/**
 * Watches the bytes DuckDB writes with its own quoting for where it may differ from the Node
 * writer: any `#` (DuckDB quotes every value holding one) or U+FEFF (the Node writer quotes a
 * value starting with it). Header names and the NULL text hold neither (nativeQuotingFits), and
 * nothing else DuckDB writes does, so a file without them is the Node writer's file. A leading BOM
 * of the dialect is skipped. Under `quoting: all` every value is quoted both ways: nothing to watch.
 */
export class NativeQuotingCheck {
  /** Set at the first byte where the quoting may differ. */
  differs = false;
  /** Set when every byte of the file was seen (the tail ended on exactly the finished file). */
  complete = false;
  private skip: number;
  /** The last two bytes seen, for a U+FEFF split across reads. */
  private last = Buffer.alloc(0);

  constructor(dialect: CsvDialect) {
    this.skip = dialect.encoding === 'utf-8-bom' && dialect.header ? FEFF_UTF8.length : 0;
  }

  /** Looks at the next bytes of the file; true once the quoting may differ. */
  scan(bytes: Buffer): boolean {
    if (this.differs) return true;
    const from = Math.min(this.skip, bytes.length);
    this.skip -= from;
    const rest = bytes.subarray(from);
    if (rest.length === 0) return false;
    const across = Buffer.concat([this.last, rest.subarray(0, FEFF_UTF8.length - 1)]);
    this.differs = rest.indexOf(HASH) >= 0 || rest.indexOf(FEFF_UTF8) >= 0 || across.indexOf(FEFF_UTF8) >= 0;
    // A copy: the reader reuses its buffer.
    this.last = Buffer.from(Buffer.concat([this.last, rest.subarray(-(FEFF_UTF8.length - 1))]).subarray(-(FEFF_UTF8.length - 1)));
    return this.differs;
  }
}

/** One field in SQL, as the Node writer writes it; NULL stays NULL (DuckDB writes NULLSTR). */
function fieldSql(text: string, column: ColumnSchema, dialect: CsvDialect): string {
  const exact = exactFieldSql(text, column, dialect);
  if (dialect.formulas !== 'neutralize') return exact;
  // csv-encoder.ts's looksLikeFormula, in RE2: quoted, with the prefix in front (its quotes doubled too).
  const q = sqlString(dialect.quote);
  const formula = `regexp_matches(${text}, ${sqlString(FORMULA_START)}) AND NOT regexp_matches(${text}, ${sqlString(PLAIN_NUMBER)})`;
  const neutralized = `${q} || replace(${sqlString(FORMULA_PREFIX)} || ${text}, ${q}, ${sqlString(dialect.quote + dialect.quote)}) || ${q}`;
  return `CASE WHEN ${formula} THEN ${neutralized} ELSE ${exact} END`;
}

/** One field in SQL, quoted as the Node writer quotes it when it keeps formulas. */
function exactFieldSql(text: string, column: ColumnSchema, dialect: CsvDialect): string {
  const q = sqlString(dialect.quote);
  const plain = PLAIN_TYPES.test(column.type.toUpperCase());
  // `||` propagates NULL, so NULL is never quoted.
  const quoted = plain ? `${q} || ${text} || ${q}` : `${q} || replace(${text}, ${q}, ${sqlString(dialect.quote + dialect.quote)}) || ${q}`;
  if (dialect.quoting === 'all') return quoted;
  // A value equal to the NULL text is quoted so it reads back as a string ('' when nullText is '').
  const needs = [`${text} = ${sqlString(dialect.nullText)}`];
  if (plain) {
    if (dialect.nullText === '') return text; // never empty
  } else {
    needs.push(
      `contains(${text}, ${sqlString(dialect.delimiter)})`,
      `contains(${text}, ${q})`,
      `contains(${text}, chr(10))`,
      `contains(${text}, chr(13))`,
      // A leading U+FEFF is quoted so that a part starting with it does not start with a BOM.
      `starts_with(${text}, chr(65279))`,
    );
  }
  return `CASE WHEN ${needs.join(' OR ')} THEN ${quoted} ELSE ${text} END`;
}

/** A column name as the Node writer renders it in the header (a name is a string, never NULL). */
function headerField(name: string, dialect: CsvDialect, bom: boolean): string {
  const { delimiter, quote, nullText } = dialect;
  if (dialect.formulas === 'neutralize' && looksLikeFormula(name)) {
    return (bom ? '\ufeff' : '') + quote + (FORMULA_PREFIX + name).split(quote).join(quote + quote) + quote;
  }
  const needs = dialect.quoting === 'all' || name === nullText || name.startsWith('\uFEFF') || [delimiter, quote, '\n', '\r'].some((c) => name.includes(c));
  const field = needs ? quote + name.split(quote).join(quote + quote) + quote : name;
  return (bom ? '\ufeff' : '') + field;
}
