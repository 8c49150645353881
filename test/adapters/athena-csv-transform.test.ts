import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import type { CsvDialect } from '../../lib/core/feed/feed-schema';
import { canonicalFromAthena, readAthenaCsv, transformAthenaCsv } from '../../lib/adapters/athena/athena-csv-transform';
import { writeCsvParts, type PartSink } from '../../lib/core/csv/csv-writer';
import { athenaCsv, chunked } from '../helpers/athena-csv';
import { RANDOM_COLUMNS, randomRows } from '../helpers/random-rows';

type Row = (string | null)[];

const base: CsvDialect = { delimiter: ',', quote: '"', quoting: 'needed', header: true, nullText: '', lineEnding: 'lf', encoding: 'utf-8', gzip: false };
const d = (over: Partial<CsvDialect> = {}): CsvDialect => ({ ...base, ...over });

const COLUMNS = ['id', 'text', 'say "x"'];
/** Values that test every state of the parser, and multi-byte characters to cut in half. */
const ROWS: Row[] = [
  ['1', 'plain', null],
  ['2', '', 'say "hi"'],
  ['3', '"', '""'],
  ['4', 'a,b', 'line1\nline2'],
  ['5', 'crlf\r\ninside', '\r'],
  ['6', null, null],
  ['7', '\uFEFF', '\uFEFFlead'],
  ['8', '😀 東京 e\u0301', 'nul\u0000'],
  ['9', ',', '\n'],
  ['10', '"quoted",\n"', ''],
];

async function readAll(input: AsyncIterable<Uint8Array>, batchRows?: number): Promise<{ columns: readonly string[]; rows: Row[] }> {
  const csv = await readAthenaCsv(input, { batchRows });
  const rows: Row[] = [];
  for await (const batch of csv.batches) rows.push(...batch);
  return { columns: csv.columns, rows };
}

function memorySink(): { openPart: (name: string) => PartSink; parts: Buffer[][] } {
  const parts: Buffer[][] = [];
  return {
    parts,
    openPart: () => {
      const chunks: Buffer[] = [];
      parts.push(chunks);
      const stream = new Writable({
        write(chunk: Buffer, _enc, cb) {
          chunks.push(chunk);
          cb();
        },
      });
      return { stream, finished: finished(stream) };
    },
  };
}

describe('readAthenaCsv parses Athena result CSV', () => {
  const bytes = Buffer.from(athenaCsv(COLUMNS, ROWS), 'utf8');

  it('reads the header, NULL as null, "" as the empty string, doubled quotes and line breaks inside quotes', async () => {
    expect(bytes.toString('utf8').split('\n')[0]).toBe('"id","text","say ""x"""');
    expect(await readAll(chunked(bytes, []))).toEqual({ columns: COLUMNS, rows: ROWS });
  });

  it('reads the same rows wherever the bytes are cut in two: inside quotes, doubled quotes, CRLF and characters', async () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { rows } = await readAll(chunked(bytes, [cut]), 3);
      if (JSON.stringify(rows) !== JSON.stringify(ROWS)) throw new Error(`cut at byte ${cut} read ${JSON.stringify(rows)}`);
    }
  });

  it('reads the same rows from one-byte chunks and from random cuts', async () => {
    expect(
      (
        await readAll(
          chunked(
            bytes,
            Array.from({ length: bytes.length }, (_, i) => i),
          ),
          2,
        )
      ).rows,
    ).toEqual(ROWS);
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let k = 0; k < 200; k++) {
      const cuts = Array.from({ length: 1 + (next() % 12) }, () => next() % bytes.length);
      expect((await readAll(chunked(bytes, cuts), 1 + (next() % 4))).rows).toEqual(ROWS);
    }
  });

  it('reads back thousands of seeded random rows exactly, cut into random chunks', async () => {
    for (const seed of [1, 2, 3]) {
      const rows = randomRows(seed, 2000);
      const csv = Buffer.from(athenaCsv(RANDOM_COLUMNS, rows), 'utf8');
      const cuts = Array.from({ length: 300 }, (_, i) => Math.floor((((i * 7919 + seed * 104729) % 1_000_003) / 1_000_003) * csv.length));
      expect(await readAll(chunked(csv, cuts), 97)).toEqual({ columns: RANDOM_COLUMNS, rows });
    }
  });

  it('reads a one-column result whose NULL rows are empty lines', async () => {
    const csv = Buffer.from('"v"\n"a"\n\n""\n');
    expect(await readAll(chunked(csv, [5]))).toEqual({ columns: ['v'], rows: [['a'], [null], ['']] });
  });

  it('accepts a last record without its line end, NULL last included', async () => {
    expect((await readAll(chunked(Buffer.from('"a","b"\n"1",'), []))).rows).toEqual([['1', null]]);
    expect((await readAll(chunked(Buffer.from('"a","b"\n"1","x"'), []))).rows).toEqual([['1', 'x']]);
  });

  it('hands rows on in batches of about batchRows', async () => {
    const many = Array.from({ length: 100 }, (_, i): Row => [String(i), 'x', null]);
    const csv = await readAthenaCsv(chunked(Buffer.from(athenaCsv(COLUMNS, many)), []), { batchRows: 30 });
    const sizes: number[] = [];
    for await (const batch of csv.batches) sizes.push(batch.length);
    // One chunk holds every row: it is handed on whole, not held back.
    expect(sizes).toEqual([100]);
    const small = await readAthenaCsv(Readable.from(Buffer.from(athenaCsv(COLUMNS, many)), { objectMode: false, highWaterMark: 64 }), { batchRows: 30 });
    const smallSizes: number[] = [];
    for await (const batch of small.batches) smallSizes.push(batch.length);
    expect(smallSizes.reduce((a, b) => a + b, 0)).toBe(100);
    expect(Math.max(...smallSizes.slice(0, -1))).toBeLessThan(40);
    expect(Math.min(...smallSizes.slice(0, -1))).toBeGreaterThanOrEqual(30);
  });
});

describe('readAthenaCsv rejects what is not Athena result CSV, saying where', () => {
  const read = (text: string | Buffer) => readAll(chunked(Buffer.isBuffer(text) ? text : Buffer.from(text), []));

  it('rejects an unquoted value', async () => {
    await expect(read('"a","b"\n"1",x\n')).rejects.toThrow(
      /has "x" where a field must start with '"' or end with ',' or a line end \(record 2 counting the header, character 12\)/,
    );
  });

  it('rejects text after a closing quote, CRLF record ends included', async () => {
    await expect(read('"a"\n"1"x\n')).rejects.toThrow(/has "x" where .* \(record 2 counting the header/);
    await expect(read('"a"\r\n"1"\r\n')).rejects.toThrow(/has "\\r" where .* \(record 1 counting the header/);
  });

  it('rejects a record with too few or too many values, naming the columns', async () => {
    await expect(read('"a","b"\n"1","2"\n"3"\n')).rejects.toThrow(/has 1 values in record 3 counting the header.*expected 2 \(a, b\)/);
    await expect(read('"a","b"\n"1","2",\n')).rejects.toThrow(/has 3 values in record 2/);
  });

  it('rejects a truncated object, an empty object and a header with an unquoted empty name', async () => {
    await expect(read('"a"\n"unterminated\n')).rejects.toThrow(/ends inside a quoted value .*truncated/);
    await expect(read('')).rejects.toThrow(/empty: it has no header line/);
    await expect(read('"a",\n')).rejects.toThrow(/header has an empty \(unquoted\) name/);
  });

  it('rejects bytes that are not UTF-8 instead of replacing them', async () => {
    await expect(read(Buffer.concat([Buffer.from('"a"\n"'), Buffer.from([0xff, 0xfe]), Buffer.from('"\n')]))).rejects.toThrow(
      /not valid UTF-8 at byte 5 \(record 2/,
    );
    // A character cut short at the very end.
    await expect(read(Buffer.concat([Buffer.from('"a"\n"'), Buffer.from([0xe6, 0x9d])]))).rejects.toThrow(/not valid UTF-8/);
    const bad: [string, number[]][] = [
      ['a surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
      ['an overlong slash', [0xc0, 0xaf]],
      ['a character cut short before ASCII', [0xe6, 0x9d, 0x41]],
      ['a lone continuation byte', [0x80]],
      ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ];
    for (const [what, bytes] of bad) {
      const csv = Buffer.concat([Buffer.from('"a"\n"x'), Buffer.from(bytes), Buffer.from('"\n')]);
      // Whole, and cut inside the bad sequence.
      for (const cuts of [[], [6], [7], [8]]) {
        const outcome = await readAll(chunked(csv, cuts)).then(
          () => 'read',
          (err: Error) => err.message,
        );
        expect([what, cuts, outcome]).toEqual([what, cuts, expect.stringMatching(/not valid UTF-8 at byte 6 \(record 2 counting the header, character 6\)/)]);
      }
    }
  });
});

describe('transformAthenaCsv writes the feed dialect', () => {
  const DIALECTS: [string, CsvDialect][] = [
    ['the default', d()],
    ['semicolon, quote all, \\N null, CRLF, BOM', d({ delimiter: ';', quoting: 'all', nullText: '\\N', lineEnding: 'crlf', encoding: 'utf-8-bom' })],
    ['tab, NULL null, gzip, 3 rows per file', d({ delimiter: '\t', nullText: 'NULL', gzip: true, maxRowsPerFile: 3 })],
    ['pipe, single quote, 1024 bytes per file, no header', d({ delimiter: '|', quote: "'", maxBytesPerFile: 1024, header: false })],
  ];

  it.each(DIALECTS)('gives the bytes writeCsvParts gives for the same rows: %s', async (_name, dialect) => {
    const rows = [...ROWS, ...Array.from({ length: 40 }, (_, i): Row => [String(100 + i), 'v'.repeat(i * 7), i % 3 ? null : ''])];
    const bytes = Buffer.from(athenaCsv(COLUMNS, rows));
    const viaAthena = memorySink();
    const result = await transformAthenaCsv({ input: chunked(bytes, [5, 77, 78, 300]), dialect, openPart: viaAthena.openPart, batchRows: 4 });
    const direct = memorySink();
    async function* batches(): AsyncGenerator<Row[]> {
      yield rows;
    }
    const expected = await writeCsvParts({ columns: COLUMNS, batches: batches(), dialect, openPart: direct.openPart });
    expect(result.columns).toEqual(COLUMNS);
    expect(result.parts).toEqual(expected);
    if (dialect.maxRowsPerFile || dialect.maxBytesPerFile) expect(result.parts.length).toBeGreaterThan(1);
    for (const [i, chunks] of viaAthena.parts.entries()) {
      const got = Buffer.concat(chunks);
      expect(got.equals(Buffer.concat(direct.parts[i]))).toBe(true);
      if (dialect.gzip) expect(gunzipSync(got).length).toBeGreaterThan(0);
    }
  });

  it('checks the header against the expected columns, and ends the input when it differs', async () => {
    const input = Readable.from([Buffer.from(athenaCsv(['id', 'other', 'say "x"'], ROWS))]);
    await expect(transformAthenaCsv({ input, dialect: d(), openPart: memorySink().openPart, columns: COLUMNS })).rejects.toThrow(
      /columns \(id, other, say "x"\) differ from the expected ones \(id, text, say "x"\)/,
    );
    expect(input.destroyed).toBe(true);
  });

  it('converts values left in Athena text when given the column types', async () => {
    const input = chunked(
      Buffer.from(
        athenaCsv(
          ['ts', 'amount', 'ok', 'name'],
          [
            ['2024-01-15 06:00:00.000', '.5', 'true', '2024-01-15 06:00:00.000'],
            [null, '-12', 'false', null],
          ],
        ),
      ),
      [],
    );
    const sink = memorySink();
    await transformAthenaCsv({ input, dialect: d(), openPart: sink.openPart, columnTypes: ['timestamp(3)', 'decimal(10,2)', 'boolean', 'varchar'] });
    expect(Buffer.concat(sink.parts[0]).toString()).toBe('ts,amount,ok,name\n2024-01-15T06:00:00Z,0.50,true,2024-01-15 06:00:00.000\n,-12.00,false,\n');
  });

  it('neutralizes formulas on the Athena path too when the dialect asks', async () => {
    const input = chunked(
      Buffer.from(
        athenaCsv(
          ['id', 'v'],
          [
            ['1', '=1+1'],
            ['-2', '@x'],
            ['3', 'ok'],
          ],
        ),
      ),
      [],
    );
    const sink = memorySink();
    await transformAthenaCsv({ input, dialect: d({ formulas: 'neutralize' }), openPart: sink.openPart });
    expect(Buffer.concat(sink.parts[0]).toString()).toBe(`id,v\n1,"'=1+1"\n-2,"'@x"\n3,ok\n`);
  });

  it('names the row and column of a value its type cannot convert, and ends the input', async () => {
    const input = Readable.from([
      Buffer.from(
        athenaCsv(
          ['id', 'amount'],
          [
            ['1', '1.5'],
            ['2', '1.005'],
          ],
        ),
      ),
    ]);
    await expect(transformAthenaCsv({ input, dialect: d(), openPart: memorySink().openPart, columnTypes: ['integer', 'decimal(10,2)'] })).rejects.toThrow(
      /^row 2, column amount: Athena decimal\(10,2\) value "1.005" .*at most 2 fraction digits/,
    );
    expect(input.destroyed).toBe(true);
  });

  it('ends the input when the dialect is refused before any row is read', async () => {
    const input = Readable.from([Buffer.from(athenaCsv(['a'], [['1']]))]);
    await expect(transformAthenaCsv({ input, dialect: d({ nullText: 'a,b' }), openPart: memorySink().openPart })).rejects.toThrow(/nullText/);
    expect(input.destroyed).toBe(true);
  });

  it('stops and destroys the input when a part cannot be written', async () => {
    const input = Readable.from(
      (function* () {
        yield Buffer.from('"a"\n');
        for (let i = 0; i < 10_000; i++) yield Buffer.from(`"row ${i}"\n`);
      })(),
    );
    const openPart = (): PartSink => {
      const stream = new Writable({ write: (_c, _e, cb) => cb(new Error('upload refused')) });
      return { stream, finished: finished(stream) };
    };
    await expect(transformAthenaCsv({ input, dialect: d(), openPart })).rejects.toThrow('upload refused');
    expect(input.destroyed).toBe(true);
  });

  it('reads no further ahead of a slow sink than a batch and the stream buffers: memory stays bounded', async () => {
    const rowCount = 200_000;
    let bytesRead = 0;
    let bytesStored = 0;
    let maxAhead = 0;
    const source = Readable.from(
      (function* () {
        const header = Buffer.from('"id","note"\n');
        bytesRead += header.length;
        yield header;
        for (let i = 0; i < rowCount; i += 500) {
          let text = '';
          for (let k = i; k < i + 500; k++) text += `"${k}","note ${k}, with a ""quote"""\n`;
          const chunk = Buffer.from(text);
          bytesRead += chunk.length;
          yield chunk;
        }
      })(),
    );
    const openPart = (): PartSink => {
      const stream = new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _enc, cb) {
          bytesStored += chunk.length;
          maxAhead = Math.max(maxAhead, bytesRead - bytesStored);
          setImmediate(cb);
        },
      });
      return { stream, finished: finished(stream) };
    };
    const { parts } = await transformAthenaCsv({ input: source, dialect: d(), openPart });
    expect(parts[0].rows).toBe(rowCount);
    expect(bytesRead).toBeGreaterThan(7_000_000);
    // Input and output are about the same size here; the gap is the buffers in between, not the file.
    expect(maxAhead).toBeLessThan(1_500_000);
  });
});

describe('canonicalFromAthena', () => {
  it('writes timestamps as ISO-8601 UTC with a fraction only when it is not zero, as canonicalText does', () => {
    expect(canonicalFromAthena('timestamp', '2024-01-15 06:00:00.000')).toBe('2024-01-15T06:00:00Z');
    expect(canonicalFromAthena('timestamp(3)', '2024-01-15 06:00:00.120')).toBe('2024-01-15T06:00:00.120000Z');
    expect(canonicalFromAthena('timestamp(6)', '2024-01-01 00:00:00.000001')).toBe('2024-01-01T00:00:00.000001Z');
    expect(canonicalFromAthena('timestamp(9)', '2024-01-01 00:00:00.000001000')).toBe('2024-01-01T00:00:00.000001Z');
    expect(canonicalFromAthena('timestamp', '2024-01-15 06:00:00')).toBe('2024-01-15T06:00:00Z');
  });

  it('moves timestamps with a time zone to UTC', () => {
    expect(canonicalFromAthena('timestamp with time zone', '2024-01-15 06:00:00.000 UTC')).toBe('2024-01-15T06:00:00Z');
    expect(canonicalFromAthena('timestamp(3) with time zone', '2024-03-31 03:30:00.250 Europe/Amsterdam')).toBe('2024-03-31T01:30:00.250000Z');
    expect(canonicalFromAthena('timestamp with time zone', '2024-01-15 06:00:00.000 +05:30')).toBe('2024-01-15T00:30:00Z');
  });

  it('writes decimals at their full scale', () => {
    expect(canonicalFromAthena('decimal(38,10)', '0.1')).toBe('0.1000000000');
    expect(canonicalFromAthena('decimal(12,2)', '.5')).toBe('0.50');
    expect(canonicalFromAthena('decimal(12,2)', '-12')).toBe('-12.00');
    expect(canonicalFromAthena('DECIMAL(38, 10)', '12345678901234567890.1234567890')).toBe('12345678901234567890.1234567890');
    expect(canonicalFromAthena('decimal(10,0)', '7')).toBe('7');
    expect(canonicalFromAthena('decimal(10,2)', '7.500')).toBe('7.50');
  });

  it('checks booleans and leaves other types alone', () => {
    expect(canonicalFromAthena('boolean', 'true')).toBe('true');
    expect(canonicalFromAthena('varchar', '2024-01-15 06:00:00.000')).toBe('2024-01-15 06:00:00.000');
    expect(canonicalFromAthena('bigint', '-42')).toBe('-42');
  });

  it('refuses a value it could only change by rounding or guessing, naming type, value and form', () => {
    expect(() => canonicalFromAthena('timestamp(9)', '2024-01-01 00:00:00.000000001')).toThrow(
      /timestamp\(9\) value "2024-01-01 00:00:00.000000001" .*microsecond/,
    );
    expect(() => canonicalFromAthena('decimal(10,2)', '1.005')).toThrow(/at most 2 fraction digits/);
    expect(() => canonicalFromAthena('decimal(10,2)', '1e5')).toThrow(/expected a decimal number/);
    expect(() => canonicalFromAthena('boolean', 'TRUE')).toThrow(/expected true or false/);
    expect(() => canonicalFromAthena('timestamp', '15/01/2024')).toThrow(/expected YYYY-MM-DD HH:MM:SS/);
    expect(() => canonicalFromAthena('timestamp with time zone', '2024-01-15 06:00:00 Mars/Olympus')).toThrow(/known time zone/);
  });
});
