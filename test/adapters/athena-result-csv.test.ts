import { Readable } from 'node:stream';
import { AthenaCsvParser, parseAthenaCsv } from '../../lib/adapters/athena/athena-result-csv';

/** Athena's result CSV for rows: header, every value quoted, NULL as an empty unquoted field. */
function athenaCsv(header: string[], rows: (string | null)[][], eol = '\n'): string {
  const line = (r: (string | null)[]) => r.map((v) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`)).join(',');
  return [line(header), ...rows.map(line)].map((l) => l + eol).join('');
}

function parseChunks(chunks: (Buffer | string)[]): { columns: readonly string[] | undefined; rows: (string | null)[][] } {
  const parser = new AthenaCsvParser();
  const rows: (string | null)[][] = [];
  for (const c of chunks) rows.push(...parser.push(c));
  rows.push(...parser.end());
  return { columns: parser.columns, rows };
}

const HEADER = ['id', 'text', 'note'];
const ROWS: (string | null)[][] = [
  ['1', 'plain', null],
  ['2', '', 'empty string, not NULL'],
  ['3', 'say "hi", twice ""', 'a,b'],
  ['4', 'line one\nline two\r\nline three', 'ünïcødé ✓ 😀'],
  ['5', '"', '""'],
  [null, null, null],
];

describe('Athena result CSV parser', () => {
  it('reads the header apart and tells NULL (empty unquoted) from the empty string ("")', () => {
    const { columns, rows } = parseChunks([athenaCsv(HEADER, ROWS)]);
    expect(columns).toEqual(HEADER);
    expect(rows).toEqual(ROWS);
  });

  it('gives the same rows whatever byte a chunk ends at, multi-byte characters and doubled quotes included', () => {
    const bytes = Buffer.from(athenaCsv(HEADER, ROWS), 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(parseChunks([bytes.subarray(0, cut), bytes.subarray(cut)]).rows).toEqual(ROWS);
    }
  });

  it('gives the same rows when fed one byte at a time', () => {
    const bytes = Buffer.from(athenaCsv(HEADER, ROWS), 'utf8');
    expect(parseChunks([...bytes].map((b) => Buffer.from([b]))).rows).toEqual(ROWS);
  });

  it('reads rows ended by CRLF, and a last row without a final newline', () => {
    const text = athenaCsv(HEADER, ROWS, '\r\n');
    expect(parseChunks([text]).rows).toEqual(ROWS);
    expect(parseChunks([text.slice(0, -2)]).rows).toEqual(ROWS);
  });

  it('reads a one-column result whose rows are NULL as NULL rows', () => {
    expect(parseChunks(['"x"\n\n""\n"a"\n']).rows).toEqual([[null], [''], ['a']]);
  });

  it('round-trips random rows cut into random chunks', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['a', 'Z', '0', ',', '"', '\n', '\r', ' ', 'é', '€', '😀', "'", ';'];
    const rows = Array.from({ length: 300 }, () =>
      Array.from({ length: 4 }, () => (random() < 0.15 ? null : Array.from({ length: Math.floor(random() * 8) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''))),
    );
    const bytes = Buffer.from(athenaCsv(['a', 'b', 'c', 'd'], rows), 'utf8');
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const size = 1 + Math.floor(random() * 40);
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    expect(parseChunks(chunks).rows).toEqual(rows);
  });

  it('refuses a row with the wrong number of fields and a value left open', () => {
    expect(() => parseChunks(['"a","b"\n"1"\n'])).toThrow(/row 1 has 1 fields, the header 2/);
    expect(() => parseChunks(['"a"\n"open'])).toThrow(/inside a quoted value/);
  });

  it('yields batches of the asked size from a stream', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => [String(i), i % 3 ? `v${i}` : null]);
    const stream = Readable.from([Buffer.from(athenaCsv(['n', 'v'], rows))]);
    const batches: (string | null)[][][] = [];
    for await (const batch of parseAthenaCsv(stream, 4)) batches.push(batch);
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(batches.flat()).toEqual(rows);
  });
});
