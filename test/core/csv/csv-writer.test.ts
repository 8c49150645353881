import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import type { CsvDialect } from '../../../lib/core/feed/feed-schema';
import { csvFileName, writeCsvParts, type PartSink, type WrittenPart } from '../../../lib/core/csv/csv-writer';
import { localPartSink } from '../../helpers/local-part-sink';

type Row = (string | null)[];

const base: CsvDialect = {
  delimiter: ',',
  quote: '"',
  quoting: 'needed',
  header: true,
  nullText: '',
  lineEnding: 'lf',
  encoding: 'utf-8',
  gzip: false,
};
const dialect = (over: Partial<CsvDialect> = {}): CsvDialect => ({ ...base, ...over });

let root: string;
let dirCount = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'dropkit-csv-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const newDir = (): string => join(root, `out-${dirCount++}`);

async function* batchesOf(rows: Row[], size: number): AsyncGenerator<Row[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

async function write(columns: string[], rows: Row[], d: CsvDialect, batchSize = 3): Promise<{ dir: string; parts: WrittenPart[] }> {
  const dir = newDir();
  const parts = await writeCsvParts({ columns, batches: batchesOf(rows, batchSize), dialect: d, openPart: localPartSink(dir) });
  return { dir, parts };
}

/** The bytes of a part as stored. */
const stored = (dir: string, part: WrittenPart): Buffer => readFileSync(join(dir, part.fileName));
/** The uncompressed bytes of a part. */
const plain = (dir: string, part: WrittenPart, d: CsvDialect): Buffer => (d.gzip ? gunzipSync(stored(dir, part)) : stored(dir, part));
const text = (dir: string, part: WrittenPart, d: CsvDialect): string => plain(dir, part, d).toString('utf8');

describe('csvFileName', () => {
  it('numbers parts with five digits and adds .gz when the dialect gzips', () => {
    expect(csvFileName(0, dialect())).toBe('part-00000.csv');
    expect(csvFileName(12, dialect({ gzip: true }))).toBe('part-00012.csv.gz');
  });
});

describe('writeCsvParts writes exact bytes', () => {
  it('writes the default dialect with bare NULL, quoted empty string, doubled quotes and quoted newlines', async () => {
    const d = dialect();
    const { dir, parts } = await write(
      ['id', 'name', 'note, or "remark"'],
      [
        ['1', 'Ann', null],
        ['2', '', 'say "hi"'],
        ['3', 'a,b', 'x\ny'],
        ['4', ' padded ', 'cr\ronly'],
      ],
      d,
    );
    expect(parts.map((p) => [p.fileName, p.rows])).toEqual([['part-00000.csv', 4]]);
    expect(text(dir, parts[0], d)).toBe(
      'id,name,"note, or ""remark"""\n' + '1,Ann,\n' + '2,"","say ""hi"""\n' + '3,"a,b","x\ny"\n' + '4, padded ,"cr\ronly"\n',
    );
  });

  it('quotes every non-null field under quoting all, with CRLF, a BOM and a bare \\N for NULL', async () => {
    const d = dialect({ delimiter: ';', quoting: 'all', lineEnding: 'crlf', encoding: 'utf-8-bom', nullText: '\\N' });
    const { dir, parts } = await write(
      ['id', 'v'],
      [
        ['1', null],
        ['2', '\\N'],
        ['3', ''],
        ['4', 'a;b'],
      ],
      d,
    );
    expect(plain(dir, parts[0], d).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(text(dir, parts[0], d)).toBe('\uFEFF"id";"v"\r\n' + '"1";\\N\r\n' + '"2";"\\N"\r\n' + '"3";""\r\n' + '"4";"a;b"\r\n');
  });

  it('quotes a value equal to a non-empty nullText and leaves the empty string bare under quoting needed', async () => {
    const d = dialect({ delimiter: '\t', nullText: 'NULL' });
    const { dir, parts } = await write(
      ['a', 'b', 'c'],
      [
        [null, 'NULL', ''],
        ['NULLx', 'a\tb', "it's"],
      ],
      d,
    );
    expect(text(dir, parts[0], d)).toBe('a\tb\tc\n' + 'NULL\t"NULL"\t\n' + 'NULLx\t"a\tb"\tit\'s\n');
  });

  it('doubles a non-default quote character and leaves double quotes alone', async () => {
    const d = dialect({ quote: "'" });
    const { dir, parts } = await write(
      ['a', 'b'],
      [
        ["it's", 'say "hi"'],
        ['', null],
      ],
      d,
    );
    expect(text(dir, parts[0], d)).toBe("a,b\n'it''s',say \"hi\"\n'',\n");
  });

  it('writes no header line when header is false', async () => {
    const d = dialect({ header: false });
    const { dir, parts } = await write(['a'], [['1'], ['2']], d);
    expect(text(dir, parts[0], d)).toBe('1\n2\n');
  });
});

describe('writeCsvParts never changes a value', () => {
  it('keeps U+FEFF leading, inside and alone, even where a part starts: readers that strip a BOM get it back', async () => {
    const d = dialect({ header: false, maxRowsPerFile: 1 });
    const rows: Row[] = [
      ['\uFEFF', 'a'],
      ['\uFEFFlead', 'in\uFEFFside'],
      ['x', '\uFEFF'],
    ];
    const { dir, parts } = await write(['a', 'b'], rows, d);
    expect(parts).toHaveLength(3);
    expect(text(dir, parts[0], d)).toBe('"\uFEFF",a\n');
    const readBack = parts.flatMap((p) => parse(plain(dir, p, d), { bom: true }) as Row[]);
    expect(readBack).toEqual(rows);
  });

  it('writes NUL, U+2028, emoji sequences and combining marks as their UTF-8 bytes', async () => {
    const d = dialect({ header: false });
    const values = ['nul\u0000byte', 'line\u2028sep', '👩\u200d👩\u200d👧 🇳🇱', '\u0301e\u0301\u0302'];
    const { dir, parts } = await write(
      ['v'],
      values.map((v) => [v]),
      d,
    );
    expect(plain(dir, parts[0], d).equals(Buffer.from(values.join('\n') + '\n', 'utf8'))).toBe(true);
  });

  it('refuses a lone surrogate instead of writing U+FFFD in its place', async () => {
    await expect(
      write(
        ['a', 'b'],
        [
          ['ok', 'ok'],
          ['ok', 'bad \uD800 value'],
        ],
        dialect(),
      ),
    ).rejects.toThrow(/row 2, column b: the value holds a lone UTF-16 surrogate \(\\ud800 after "bad "\)/);
    await expect(write(['name \uDC00'], [], dialect())).rejects.toThrow(/header, column name .+: the value holds a lone UTF-16 surrogate/);
  });

  it('refuses a nullText starting with U+FEFF, which would have to be quoted at the start of a part', async () => {
    await expect(write(['a'], [['1']], dialect({ nullText: '\uFEFFnull' }))).rejects.toThrow(/nor start with U\+FEFF/);
  });
});

/** Values that break naive CSV writers. */
const nasty: (string | null)[] = [
  'plain',
  'with "quote" inside',
  '"',
  '""',
  '"leading quote',
  "single ' quote",
  'a,b',
  'a;b',
  'a\tb',
  'a|b',
  ',',
  ';',
  'line1\nline2',
  'cr\ronly',
  'crlf\r\nend',
  '\n',
  '\r',
  '\r\n',
  'trailing\n',
  '  leading spaces',
  'trailing spaces  ',
  ' ',
  '😀 emoji 👩‍👩‍👧',
  '中文字符 日本語 한국어',
  'e\u0301 combining, n\u0303',
  '\uFEFFstarts with a BOM',
  '=1+2',
  '-3',
  '#not a comment',
  '',
  null,
  '\\N',
  'NULL',
  'x'.repeat(50_000) + '"\n,;\t' + 'y'.repeat(50_000),
];

function nastyRows(): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < nasty.length; i++) {
    rows.push([String(i), nasty[i], nasty[(i + 7) % nasty.length], nasty[(i * 5 + 3) % nasty.length]]);
  }
  rows.push(['all null', null, null, null]);
  rows.push(['all empty', '', '', '']);
  return rows;
}
const nastyColumns = ['id', 'value', 'other "col"', 'semi;col,comma'];

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const roundTripDialects: [string, CsvDialect][] = [
  ['comma, LF, quoting needed, empty nullText', dialect()],
  [
    'semicolon, CRLF, quoting all, gzip, BOM, split every 5 rows',
    dialect({ delimiter: ';', lineEnding: 'crlf', quoting: 'all', gzip: true, encoding: 'utf-8-bom', maxRowsPerFile: 5 }),
  ],
  ['tab, nullText \\N, gzip, split by 1024 bytes', dialect({ delimiter: '\t', nullText: '\\N', gzip: true, maxBytesPerFile: 1024 })],
  ['pipe, single quote, CRLF, nullText NULL, BOM', dialect({ delimiter: '|', quote: "'", lineEnding: 'crlf', nullText: 'NULL', encoding: 'utf-8-bom' })],
  ['comma, quoting all, nullText \\N, no header', dialect({ quoting: 'all', nullText: '\\N', header: false })],
];

describe('writeCsvParts round trips adversarial values through an independent parser', () => {
  it.each(roundTripDialects)('reads back every value equal with %s', async (_name, d) => {
    const rows = nastyRows();
    const { dir, parts } = await write(nastyColumns, rows, d, 4);
    expect(parts.reduce((n, p) => n + p.rows, 0)).toBe(rows.length);
    if (d.maxRowsPerFile !== undefined || d.maxBytesPerFile !== undefined) expect(parts.length).toBeGreaterThan(1);

    const eol = d.lineEnding === 'crlf' ? '\r\n' : '\n';
    const quotedField = new RegExp(`${escapeRegExp(d.quote)}(?:[^${escapeRegExp(d.quote)}]|${escapeRegExp(d.quote + d.quote)})*${escapeRegExp(d.quote)}`, 'g');
    const readBack: Row[] = [];
    for (const part of parts) {
      const bytes = plain(dir, part, d);
      if (d.encoding === 'utf-8-bom') expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      else expect(bytes[0]).not.toBe(0xef);

      // Outside quoted fields, CR and LF appear only as the dialect's line ending, which ends the file.
      const outsideQuotes = bytes.toString('utf8').replace(quotedField, 'Q');
      expect(outsideQuotes.endsWith(eol)).toBe(true);
      expect(outsideQuotes.split(eol).join('')).not.toMatch(/[\r\n]/);

      const quotedFlags: boolean[] = []; // per field, in reading order
      const records = parse(bytes, {
        delimiter: d.delimiter,
        quote: d.quote,
        escape: d.quote,
        record_delimiter: eol,
        bom: true,
        relax_column_count: false,
        cast: (value, context) => {
          quotedFlags.push(context.quoting);
          // Only a bare nullText is NULL; a quoted one is the string.
          return !context.quoting && value === d.nullText ? null : value;
        },
      }) as unknown as Row[];
      if (d.header) expect(records.shift()).toEqual(nastyColumns);
      expect(records).toHaveLength(part.rows);
      readBack.push(...records);

      if (d.quoting === 'all') {
        // Every non-null field quoted, NULL bare (the header's flags come first).
        const dataFlags = quotedFlags.slice(d.header ? nastyColumns.length : 0);
        expect(dataFlags).toEqual(records.flat().map((value) => value !== null));
      }
    }
    expect(readBack).toEqual(rows);
  });
});

describe('writeCsvParts splits parts', () => {
  const numbered = (n: number): Row[] => Array.from({ length: n }, (_, i) => [String(i), `value number ${i}`]);

  it('starts a new part after maxRowsPerFile rows, each with the header', async () => {
    const d = dialect({ maxRowsPerFile: 4 });
    const { dir, parts } = await write(['id', 'v'], numbered(10), d, 3);
    expect(parts.map((p) => [p.fileName, p.rows])).toEqual([
      ['part-00000.csv', 4],
      ['part-00001.csv', 4],
      ['part-00002.csv', 2],
    ]);
    expect(text(dir, parts[2], d)).toBe('id,v\n8,value number 8\n9,value number 9\n');
    for (const part of parts) expect(text(dir, part, d).startsWith('id,v\n')).toBe(true);
  });

  it('leaves no empty trailing part when the rows divide evenly', async () => {
    const { parts } = await write(['id', 'v'], numbered(8), dialect({ maxRowsPerFile: 4 }), 8);
    expect(parts.map((p) => p.rows)).toEqual([4, 4]);
  });

  it('splits huge batches by rows without a stringify call per row', async () => {
    const { parts } = await write(['id', 'v'], numbered(10_000), dialect({ maxRowsPerFile: 3000 }), 10_000);
    expect(parts.map((p) => p.rows)).toEqual([3000, 3000, 3000, 1000]);
  });

  it('keeps every part within maxBytesPerFile, header included, and fills each before moving on', async () => {
    const d = dialect({ maxBytesPerFile: 1024 });
    const rows = numbered(200).map(([id]) => [id, `row ${id} ` + 'z'.repeat(Number(id) % 60) + ', "quoted"\nline']);
    const { dir, parts } = await write(['id', 'v'], rows, d, 7);
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.reduce((n, p) => n + p.rows, 0)).toBe(200);
    let next = 0;
    for (const [i, part] of parts.entries()) {
      const bytes = plain(dir, part, d);
      expect(bytes.length).toBeLessThanOrEqual(1024);
      expect(bytes.toString().startsWith('id,v\n')).toBe(true);
      const records = parse(bytes, { from_line: 2 });
      expect(records.map((r) => r[0])).toEqual(rows.slice(next, next + part.rows).map((r) => r[0]));
      next += part.rows;
      if (i < parts.length - 1) {
        // The next part's first record would not have fitted.
        const nextRecordBytes = Buffer.byteLength(`${rows[next][0]},"${rows[next][1]!.replace(/"/g, '""')}"\n`);
        expect(bytes.length + nextRecordBytes).toBeGreaterThan(1024);
      }
    }
  });

  it('puts a record larger than maxBytesPerFile alone in its own part', async () => {
    const d = dialect({ maxBytesPerFile: 1024 });
    const huge = 'h'.repeat(5000);
    const rows: Row[] = [
      ['a', 'small'],
      ['b', 'small'],
      ['c', huge],
      ['d', 'small'],
    ];
    const { dir, parts } = await write(['id', 'v'], rows, d, 10);
    expect(parts.map((p) => p.rows)).toEqual([2, 1, 1]);
    expect(text(dir, parts[1], d)).toBe(`id,v\nc,${huge}\n`);
    expect(plain(dir, parts[0], d).length).toBeLessThanOrEqual(1024);
    expect(plain(dir, parts[2], d).length).toBeLessThanOrEqual(1024);
  });

  it('counts the BOM and header as uncompressed bytes even when the part is gzipped', async () => {
    const d = dialect({ maxBytesPerFile: 1024, gzip: true, encoding: 'utf-8-bom' });
    const rows = numbered(300);
    const { dir, parts } = await write(['id', 'v'], rows, d, 50);
    expect(parts.reduce((n, p) => n + p.rows, 0)).toBe(300);
    for (const part of parts) {
      const bytes = plain(dir, part, d);
      expect(bytes.length).toBeLessThanOrEqual(1024);
      expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    }
  });

  it('applies both limits together, whichever comes first', async () => {
    const d = dialect({ maxBytesPerFile: 1024, maxRowsPerFile: 30 });
    const rows = numbered(100).map(([id]) => [id, Number(id) < 50 ? 'short' : 'l'.repeat(100)]);
    const { dir, parts } = await write(['id', 'v'], rows, d, 13);
    expect(parts[0].rows).toBe(30);
    for (const part of parts) {
      expect(part.rows).toBeLessThanOrEqual(30);
      expect(plain(dir, part, d).length).toBeLessThanOrEqual(1024);
    }
    expect(parts.reduce((n, p) => n + p.rows, 0)).toBe(100);
  });
});

describe('writeCsvParts with no rows', () => {
  it('writes one part holding only the header', async () => {
    const d = dialect();
    const { dir, parts } = await write(['a', 'b'], [], d);
    expect(parts.map((p) => [p.fileName, p.rows])).toEqual([['part-00000.csv', 0]]);
    expect(text(dir, parts[0], d)).toBe('a,b\n');
  });

  it('writes one empty file when there is no header either, even given empty batches', async () => {
    const dir = newDir();
    async function* empties(): AsyncGenerator<Row[]> {
      yield [];
      yield [];
    }
    const parts = await writeCsvParts({ columns: ['a'], batches: empties(), dialect: dialect({ header: false }), openPart: localPartSink(dir) });
    expect(parts).toEqual([{ fileName: 'part-00000.csv', rows: 0, bytes: 0, sha256: createHash('sha256').update('').digest('hex') }]);
    expect(readdirSync(dir)).toEqual(['part-00000.csv']);
  });

  it('writes a complete gzip file of the header and BOM', async () => {
    const d = dialect({ gzip: true, encoding: 'utf-8-bom' });
    const { dir, parts } = await write(['a', 'b'], [], d);
    expect(parts[0].fileName).toBe('part-00000.csv.gz');
    expect(text(dir, parts[0], d)).toBe('\uFEFFa,b\n');
  });
});

describe('writeCsvParts reports what it stored', () => {
  it('reports bytes and sha256 equal to the files on disk, plain and gzipped', async () => {
    for (const d of [dialect({ maxRowsPerFile: 40 }), dialect({ maxRowsPerFile: 40, gzip: true })]) {
      const rows = nastyRows();
      const { dir, parts } = await write(nastyColumns, rows, d, 5);
      expect(readdirSync(dir).sort()).toEqual(parts.map((p) => p.fileName));
      for (const part of parts) {
        const bytes = stored(dir, part);
        expect(part.bytes).toBe(bytes.length);
        expect(part.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      }
    }
  });

  it('writes each gzip part as a complete gzip file that gunzips to the expected text', async () => {
    const d = dialect({ gzip: true, maxRowsPerFile: 2 });
    const { dir, parts } = await write(
      ['k', 'v'],
      [
        ['1', 'ä'],
        ['2', null],
        ['3', ''],
      ],
      d,
    );
    expect(parts.map((p) => p.fileName)).toEqual(['part-00000.csv.gz', 'part-00001.csv.gz']);
    expect(stored(dir, parts[0]).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gunzipSync(stored(dir, parts[0])).toString()).toBe('k,v\n1,ä\n2,\n');
    expect(gunzipSync(stored(dir, parts[1])).toString()).toBe('k,v\n3,""\n');
  });

  it('reports progress with growing rows and, at the end, the totals as stored', async () => {
    const calls: [number, number][] = [];
    const parts = await writeCsvParts({
      columns: ['a'],
      batches: batchesOf(
        Array.from({ length: 10 }, (_, i) => [String(i)]),
        4,
      ),
      dialect: dialect({ gzip: true, maxRowsPerFile: 3 }),
      openPart: localPartSink(newDir()),
      onProgress: (rows, bytes) => calls.push([rows, bytes]),
    });
    expect(calls.map(([rows]) => rows)).toEqual([4, 8, 10, 10]);
    expect(calls[calls.length - 1][1]).toBe(parts.reduce((n, p) => n + p.bytes, 0));
  });
});

describe('writeCsvParts fails loudly', () => {
  /** A sink that fails once it has been given more than `failAfter` bytes. */
  function failingSink(failAfter: number, opened: Writable[]): (name: string) => PartSink {
    return () => {
      let seen = 0;
      const stream = new Writable({
        write(chunk: Buffer, _enc, cb) {
          seen += chunk.length;
          setImmediate(() => cb(seen > failAfter ? new Error('disk full') : undefined));
        },
      });
      opened.push(stream);
      return { stream, finished: finished(stream) };
    };
  }

  it('rejects when the sink errors, and destroys the stream', async () => {
    const opened: Writable[] = [];
    const rows = Array.from({ length: 5000 }, (_, i): Row => [String(i), 'some text to fill the sink']);
    await expect(
      writeCsvParts({ columns: ['a', 'b'], batches: batchesOf(rows, 100), dialect: dialect(), openPart: failingSink(10_000, opened) }),
    ).rejects.toThrow('disk full');
    expect(opened).toHaveLength(1);
    expect(opened[0].destroyed).toBe(true);
  });

  it('rejects when the sink errors behind gzip', async () => {
    const opened: Writable[] = [];
    const rows = Array.from({ length: 20_000 }, (_, i): Row => [String(i), createHash('md5').update(String(i)).digest('hex')]);
    await expect(
      writeCsvParts({ columns: ['a', 'b'], batches: batchesOf(rows, 500), dialect: dialect({ gzip: true }), openPart: failingSink(20_000, opened) }),
    ).rejects.toThrow('disk full');
  });

  it('rejects when the sink errors only as it finishes', async () => {
    const openPart = (): PartSink => {
      const stream = new Writable({
        write: (_c, _e, cb) => cb(),
        final: (cb) => cb(new Error('upload failed')),
      });
      return { stream, finished: finished(stream) };
    };
    await expect(writeCsvParts({ columns: ['a'], batches: batchesOf([['1']], 1), dialect: dialect(), openPart })).rejects.toThrow('upload failed');
  });

  it('rejects when the input fails, and destroys the open stream', async () => {
    const dir = newDir();
    const streams: Writable[] = [];
    const sink = localPartSink(dir);
    async function* failing(): AsyncGenerator<Row[]> {
      yield [['1'], ['2']];
      throw new Error('query cancelled');
    }
    await expect(
      writeCsvParts({
        columns: ['a'],
        batches: failing(),
        dialect: dialect(),
        openPart: (name) => {
          const s = sink(name);
          streams.push(s.stream as Writable);
          return s;
        },
      }),
    ).rejects.toThrow('query cancelled');
    expect(streams[0].destroyed).toBe(true);
  });

  it('rejects a row with the wrong number of values', async () => {
    await expect(write(['a', 'b'], [['1', '2'], ['3']], dialect())).rejects.toThrow(/row has 1 values, expected 2/);
  });

  it('rejects a nullText that could not be written unquoted', async () => {
    await expect(write(['a'], [['1']], dialect({ nullText: 'n,a' }))).rejects.toThrow(/nullText/);
  });
});

describe('writeCsvParts streams', () => {
  it('waits for a slow sink instead of buffering ahead of it', async () => {
    let maxBuffered = 0;
    let total = 0;
    const openPart = (): PartSink => {
      const stream = new Writable({
        highWaterMark: 16 * 1024,
        write(chunk: Buffer, _enc, cb) {
          total += chunk.length;
          maxBuffered = Math.max(maxBuffered, this.writableLength);
          setTimeout(cb, 0);
        },
      });
      return { stream, finished: finished(stream) };
    };
    const rows = Array.from({ length: 30_000 }, (_, i): Row => [String(i), 'twenty-something chars']);
    const parts = await writeCsvParts({ columns: ['a', 'b'], batches: batchesOf(rows, 200), dialect: dialect(), openPart });
    expect(parts[0].rows).toBe(30_000);
    expect(total).toBeGreaterThan(500_000);
    // At most the high-water mark plus the one slice that crossed it.
    expect(maxBuffered).toBeLessThan(32 * 1024);
  });

  it('writes 200k rows into gzip parts with every row accounted for', async () => {
    const n = 200_000;
    async function* generate(): AsyncGenerator<Row[]> {
      for (let start = 0; start < n; start += 5000) {
        const batch: Row[] = [];
        for (let i = start; i < start + 5000; i++) batch.push([String(i), `name ${i}`, i % 10 === 0 ? null : `${i * 1.5}`, i % 7 === 0 ? '' : 'x']);
        yield batch;
      }
    }
    const d = dialect({ gzip: true, maxRowsPerFile: 75_000 });
    const dir = newDir();
    const parts = await writeCsvParts({ columns: ['id', 'name', 'amount', 'flag'], batches: generate(), dialect: d, openPart: localPartSink(dir) });
    expect(parts.map((p) => p.rows)).toEqual([75_000, 75_000, 50_000]);
    let lines = 0;
    for (const part of parts) {
      const body = gunzipSync(stored(dir, part)).toString();
      lines += body.split('\n').length - 2; // minus the header and the empty tail after the last LF
    }
    expect(lines).toBe(n);
  });
});
