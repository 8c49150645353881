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
 * - but it also quotes every value containing `#`, whatever COMMENT is set to; the Node writer
 *   does not. That alone rules out its own quoting for any text column;
 * - `FORCE_QUOTE *` quotes header names too and leaves NULL bare: as we do;
 * - `NEW_LINE '\r\n'` ends records (header included) with CRLF, leaving LF inside values alone,
 *   with a terminator after the last record (we always pass NEW_LINE: LF or CRLF);
 * - no BOM option, and PREFIX cannot be combined with HEADER.
 *
 * So DuckDB's quoting is switched off (`QUOTE ''`: it then writes values raw) and each field is
 * quoted here in SQL by the Node writer's rules; DuckDB still writes delimiters, NULLSTR for NULL
 * and line ends. The header line is the column aliases, rendered by the same rules, with the BOM
 * in front of the first one. Any dialect outside what the tests compare byte for byte against the
 * Node writer is declined.
 */

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
export function csvCopySql(source: string, columns: readonly ColumnSchema[], dialect: CsvDialect, path: string): string {
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
    // DuckDB reads the escaped spelling.
    `NEW_LINE ${dialect.lineEnding === 'crlf' ? `'\\r\\n'` : `'\\n'`}`,
  ];
  return `COPY (SELECT ${fields} FROM (SELECT ${texts} FROM ${source})) TO ${sqlString(path)} (${options.join(', ')})`;
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
