import type { CsvDialect } from '../../../lib/core/feed/feed-schema';
import { writeCsvParts } from '../../../lib/core/csv/csv-writer';
import { memoryParts, type Part } from '../../helpers/csv-parts';
import { referencePart, referenceRecords } from '../../helpers/csv-reference';
import { PIECES, RANDOM_COLUMNS as COLUMNS, randomRows, WHOLE } from '../../helpers/random-rows';

/**
 * The writer against csv-stringify (the reference) on thousands of seeded random rows, for every
 * dialect the other CSV tests use: same bytes in every part, same split points.
 */

type Row = (string | null)[];

const base: CsvDialect = { delimiter: ',', quote: '"', quoting: 'needed', header: true, nullText: '', lineEnding: 'lf', encoding: 'utf-8', gzip: false };
const d = (over: Partial<CsvDialect> = {}): CsvDialect => ({ ...base, ...over });

const DIALECTS: [string, CsvDialect][] = [
  ['the default', d()],
  ['gzip', d({ gzip: true })],
  ['semicolon, quote all, \\N null', d({ delimiter: ';', quoting: 'all', nullText: '\\N' })],
  ['tab, NULL null', d({ delimiter: '\t', nullText: 'NULL' })],
  ['tab, quote all', d({ delimiter: '\t', quoting: 'all' })],
  ['pipe, single quote', d({ delimiter: '|', quote: "'" })],
  ['pipe, single quote, all, #N/A null', d({ delimiter: '|', quote: "'", quoting: 'all', nullText: '#N/A' })],
  ['no header', d({ header: false })],
  ['CRLF', d({ lineEnding: 'crlf' })],
  ['CRLF, all, \\N null, gzip', d({ lineEnding: 'crlf', quoting: 'all', nullText: '\\N', gzip: true })],
  ['BOM', d({ encoding: 'utf-8-bom' })],
  ['BOM, all, semicolon, CRLF', d({ encoding: 'utf-8-bom', quoting: 'all', delimiter: ';', lineEnding: 'crlf' })],
  ['null text a space', d({ nullText: ' ' })],
  ['null text the other quote', d({ nullText: "'", quoting: 'all' })],
  ['null text a double quote under single quotes', d({ nullText: '"', quote: "'" })],
  ['null text null, tab', d({ nullText: 'null', delimiter: '\t' })],
  ['colon delimiter, backtick quote', d({ delimiter: ':', quote: '`' })],
  ['non-ASCII null text', d({ nullText: '∅' })],
  ['caret delimiter, backslash quote', d({ delimiter: '^', quote: '\\' })],
  ['close-bracket delimiter, dash quote', d({ delimiter: ']', quote: '-' })],
  ['formulas neutralized', d({ formulas: 'neutralize' })],
  [
    'formulas neutralized, all, single quote, \\N null, 2048 bytes per file',
    d({ formulas: 'neutralize', quoting: 'all', quote: "'", nullText: '\\N', maxBytesPerFile: 2048 }),
  ],
  ['7 rows per file, BOM, no header', d({ maxRowsPerFile: 7, encoding: 'utf-8-bom', header: false })],
  ['4096 bytes per file, gzip', d({ maxBytesPerFile: 4096, gzip: true })],
  ['2048 bytes and 50 rows per file, CRLF, all', d({ maxBytesPerFile: 2048, maxRowsPerFile: 50, lineEnding: 'crlf', quoting: 'all' })],
];

/** Splits rows into parts as the writer must: greedy by rows and uncompressed bytes; a too-big record alone. */
function expectedParts(rows: Row[], dialect: CsvDialect): Row[][] {
  const headerBytes = referencePart(COLUMNS, [], dialect).length;
  const maxRows = dialect.maxRowsPerFile ?? Infinity;
  const maxBytes = dialect.maxBytesPerFile ?? Infinity;
  const parts: Row[][] = [[]];
  let bytes = headerBytes;
  for (const row of rows) {
    const size = Buffer.byteLength(referenceRecords([row], dialect));
    let current = parts[parts.length - 1];
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      current = [];
      parts.push(current);
      bytes = headerBytes;
    }
    current.push(row);
    bytes += size;
  }
  return parts;
}

async function writeToMemory(rows: Row[], dialect: CsvDialect, batchRows: number): Promise<Part[]> {
  async function* batches(): AsyncGenerator<Row[]> {
    for (let i = 0; i < rows.length; i += batchRows) yield rows.slice(i, i + batchRows);
  }
  const sink = memoryParts(dialect.gzip);
  const parts = await writeCsvParts({ columns: COLUMNS, batches: batches(), dialect, openPart: sink.openPart });
  return sink.done(parts.map((p) => p.rows));
}

describe('writeCsvParts gives csv-stringify bytes on random rows', () => {
  it.each(DIALECTS.map(([name, dialect], i) => [name, dialect, i] as const))('for %s', async (_name, dialect, i) => {
    const rows = randomRows(1000 + i, 3000);
    const expected = expectedParts(rows, dialect);
    // An odd batch size, so part limits fall inside batches.
    const actual = await writeToMemory(rows, dialect, 257);
    expect(actual.map((p) => p.rows)).toEqual(expected.map((p) => p.length));
    for (const [k, part] of actual.entries()) {
      const reference = referencePart(COLUMNS, expected[k], dialect);
      if (!part.bytes.equals(reference)) expect(part.bytes.toString('utf8')).toBe(reference.toString('utf8'));
      expect(part.bytes.equals(reference)).toBe(true);
    }
  });

  it('covers what it claims: the random rows hold every piece and every whole value', () => {
    const values = randomRows(1000, 3000).flatMap((r) => r.slice(1));
    for (const piece of PIECES) expect(values.some((v) => v !== null && v.includes(piece) && v !== piece)).toBe(true);
    for (const whole of WHOLE) expect(values).toContain(whole);
  });
});
