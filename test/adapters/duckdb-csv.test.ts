import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { LocalStore } from '../../lib/adapters/local/local-store';
import type { CsvDialect } from '../../lib/core/feed/feed-schema';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import type { RunState } from '../../lib/core/steps/run-state';
import { renderFormatStep } from '../../lib/core/steps/render';
import { DuckDBInstance } from '@duckdb/node-api';
import { openTestEngine, stage } from '../helpers/engine';
import { exportedParts, expectSameBytes, memoryParts, type Part } from '../helpers/csv-parts';
import type { QueryEngine, StagedTable } from '../../lib/core/ports/query-engine';
import { writeCsvParts } from '../../lib/core/csv/csv-writer';
import { ADVERSARIAL_COLUMNS, ADVERSARIAL_ROWS } from '../helpers/adversarial';
import { NativeQuotingCheck } from '../../lib/adapters/duckdb/duckdb-csv';

/**
 * DuckDB's CSV export must give byte for byte what the Node writer gives (csv-stringify over
 * engine.streamText), or decline. Values and names CSV writers get wrong, over many dialects.
 */
const ADVERSARIAL = `SELECT t.*,
  ['#hash', 'a#b', chr(9) || 'tab', 'trail ', ' lead', 'nul' || chr(0) || 'x', '"', '''', 'a|b', 'x;y', '', NULL, 'NULL', '#N/A', 'ok', chr(65279), chr(65279) || 'x', 'x' || chr(65279), chr(8232), chr(769), '🚀', NULL][id] AS more,
  ['inf'::DOUBLE, '-inf'::DOUBLE, 'nan'::DOUBLE, -0.0, 1e300, 0.1, 1.5e-10, NULL, 3, 4, 5, 6, 7, 8, 9][id] AS dbl,
  [TIMETZ '12:00:00+02', NULL, TIME '01:02:03.5'::TIMETZ, TIMETZ '00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL][id] AS ttz,
  [170141183460469231731687303715884105727::HUGEINT, -1, NULL, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11][id] AS big,
  CASE WHEN id % 3 = 0 THEN NULL ELSE (printf('00000000-0000-4000-8000-%012d', id))::UUID END AS u,
  [''::BLOB, 'a,b'::BLOB, NULL, '\\x00\\xFF'::BLOB, 'x'::BLOB, 'x'::BLOB, 'x'::BLOB, 'x'::BLOB, 'x'::BLOB, 'x'::BLOB, 'x'::BLOB, 'x'::BLOB, 'x'::BLOB, 'x'::BLOB, 'x'::BLOB][id] AS blb,
  CASE WHEN id % 4 = 0 THEN NULL ELSE [id, NULL, 2] END AS lst,
  {'k': txt, 'n': id} AS st,
  (['a', 'b,c', 'd"e'][id % 3 + 1])::ENUM('a', 'b,c', 'd"e') AS en,
  CASE WHEN id % 2 = 0 THEN INTERVAL (id) DAY END AS iv,
  (TIMESTAMP '2024-01-15 06:00:00.5' + to_microseconds(id))::TIMESTAMP_NS AS tns,
  DATE '0001-01-01' - id AS bc,
  ['=1+1', '+cmd|x', '-2+3', '@SUM(A1)', chr(13) || 'cr', chr(9) || 'tab', '＝x', '-5', '+1.5', '-1e+300', '-', 'a=b', '''=x', '-inf', NULL, '=a"b,c'][id] AS formula
FROM (VALUES
${ADVERSARIAL_ROWS}
) ${ADVERSARIAL_COLUMNS}
ORDER BY id`;

/** Header names that need quoting in some dialect, and one equal to a NULL text. */
const NAMES = `SELECT 1 AS "a,b", 'x' AS "say ""x""", 2 AS "NULL", 3 AS "\\N", 4 AS "#hash", 5 AS " sp ", 6 AS "semi;colon", 7 AS "pi|pe", 8 AS "line
break", 9 AS "it's", 10 AS "tab	in", 11 AS "é", 12 AS "=cmd", 13 AS "-x", 14 AS "-1"`;

/** The same values and names without `#` or U+FEFF: DuckDB's own quoting then gives the Node writer's bytes. */
const CLEAN = ADVERSARIAL.replaceAll('#', '').replaceAll('chr(65279)', 'chr(65)');
const CLEAN_NAMES = NAMES.replaceAll('#', '');

const base: CsvDialect = { delimiter: ',', quote: '"', quoting: 'needed', header: true, nullText: '', lineEnding: 'lf', encoding: 'utf-8', gzip: false };
const d = (over: Partial<CsvDialect> = {}): CsvDialect => ({ ...base, ...over });

/** Each dialect, and whether DuckDB must write it (true) or decline it (false). */
const DIALECTS: [string, CsvDialect, boolean][] = [
  ['comma, LF, needed, empty null (the default)', d(), true],
  ['the default, gzip', d({ gzip: true }), true],
  ['semicolon, quote all, \\N null', d({ delimiter: ';', quoting: 'all', nullText: '\\N' }), true],
  ['tab, NULL null', d({ delimiter: '\t', nullText: 'NULL' }), true],
  ['tab, quote all, empty null', d({ delimiter: '\t', quoting: 'all' }), true],
  ['pipe, single-quote quote', d({ delimiter: '|', quote: "'" }), true],
  ['pipe, single-quote quote, all, #N/A null', d({ delimiter: '|', quote: "'", quoting: 'all', nullText: '#N/A' }), true],
  ['header off', d({ header: false }), true],
  ['CRLF', d({ lineEnding: 'crlf' }), true],
  ['CRLF, quote all, \\N null, gzip', d({ lineEnding: 'crlf', quoting: 'all', nullText: '\\N', gzip: true }), true],
  ['UTF-8 BOM', d({ encoding: 'utf-8-bom' }), true],
  ['UTF-8 BOM, quote all, semicolon, CRLF', d({ encoding: 'utf-8-bom', quoting: 'all', delimiter: ';', lineEnding: 'crlf' }), true],
  ['4 rows per file', d({ maxRowsPerFile: 4 }), true],
  ['1 row per file, BOM, header off is declined', d({ maxRowsPerFile: 1, encoding: 'utf-8-bom', header: false }), false],
  ['1 row per file, gzip', d({ maxRowsPerFile: 1, gzip: true }), true],
  ['more rows per file than rows', d({ maxRowsPerFile: 1000 }), true],
  ['odd null texts: a space', d({ nullText: ' ' }), true],
  ['odd null texts: the other quote', d({ nullText: "'", quoting: 'all' }), true],
  ['odd null texts: a double quote under single quotes', d({ nullText: '"', quote: "'" }), true],
  ['odd null texts: null, tab-delimited', d({ nullText: 'null', delimiter: '\t' }), true],
  ['formulas neutralized', d({ formulas: 'neutralize' }), true],
  [
    'formulas neutralized, quote all, single-quote quote, semicolon, BOM',
    d({ formulas: 'neutralize', quoting: 'all', quote: "'", delimiter: ';', encoding: 'utf-8-bom' }),
    true,
  ],
  ['formulas neutralized, tab, \\N null', d({ formulas: 'neutralize', delimiter: '\t', nullText: '\\N' }), true],
  ['maxBytesPerFile is declined', d({ maxBytesPerFile: 2048 }), false],
  ['colon delimiter is declined', d({ delimiter: ':' }), false],
  ['backtick quote is declined', d({ quote: '`' }), false],
  ['non-ASCII null text is declined', d({ nullText: '∅' }), false],
];

let engine: DuckDbEngine;
let store: LocalStore;
let cleanupEngine: () => Promise<void>;
let work: string;
let adversarial: StagedTable;
let names: StagedTable;
let empty: StagedTable;
let clean: StagedTable;
let cleanNames: StagedTable;
let runs = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dropkit-duckdb-csv-'));
  ({ engine, store, cleanup: cleanupEngine } = await openTestEngine({ threads: 2 }));
  adversarial = await stage(engine, { runId: 'adversarial', sql: ADVERSARIAL, parameters: [] });
  names = await stage(engine, { runId: 'names', sql: NAMES, parameters: [] });
  empty = await stage(engine, { runId: 'empty', sql: `SELECT * FROM (${ADVERSARIAL}) WHERE false`, parameters: [] });
  clean = await stage(engine, { runId: 'clean', sql: CLEAN, parameters: [] });
  cleanNames = await stage(engine, { runId: 'clean-names', sql: CLEAN_NAMES, parameters: [] });
});
afterAll(async () => {
  await cleanupEngine();
  await rm(work, { recursive: true, force: true });
});

/** What the Node writer produces, part by part, decompressed. */
async function nodeParts(staged: StagedTable, dialect: CsvDialect, batchRows = 3): Promise<Part[]> {
  const sink = memoryParts(dialect.gzip);
  // Small batches by default: splits land mid-batch too.
  const parts = await writeCsvParts({
    columns: staged.columns.map((c) => c.name),
    batches: engine.streamText(staged, batchRows),
    dialect,
    openPart: sink.openPart,
  });
  return sink.done(parts.map((p) => p.rows));
}

/** What DuckDB exports (always uncompressed), or undefined when it declines. */
async function duckParts(staged: StagedTable, dialect: CsvDialect): Promise<Part[] | undefined> {
  return exportedParts(engine, store, staged, dialect, `export-${runs++}/`);
}

describe('DuckDB CSV export gives the Node writer bytes, or declines', () => {
  for (const [name, dialect, fast] of DIALECTS) {
    it(`${fast ? 'writes' : 'declines'}: ${name}`, async () => {
      for (const staged of [adversarial, names, empty, clean, cleanNames]) {
        const duck = await duckParts(staged, dialect);
        if (!fast) {
          expect(duck).toBeUndefined();
          continue;
        }
        expect(duck).toBeDefined();
        expectSameBytes(duck!, await nodeParts(staged, dialect));
      }
    });
  }

  /** Parts written since `before`, by who quoted them. */
  const partsSince = (before: typeof engine.csvParts) => ({
    native: engine.csvParts.native - before.native,
    sql: engine.csvParts.sql - before.sql,
    retried: engine.csvParts.retried - before.retried,
  });

  it("lets DuckDB quote by itself when no value holds # or U+FEFF: the Node writer's bytes in every dialect it fits", async () => {
    for (const [name, dialect, fast] of DIALECTS) {
      if (!fast) continue;
      for (const staged of [clean, cleanNames]) {
        const before = { ...engine.csvParts };
        const duck = (await duckParts(staged, dialect))!;
        const parts = duck.length;
        // Neutralized formulas get their prefix in SQL; a BOM cannot ride in front of a quoted first name.
        const native = dialect.formulas !== 'neutralize' && !(dialect.encoding === 'utf-8-bom' && (dialect.quoting === 'all' || staged === cleanNames));
        expect([name, partsSince(before)]).toEqual([name, native ? { native: parts, sql: 0, retried: 0 } : { native: 0, sql: parts, retried: 0 }]);
        expectSameBytes(duck, await nodeParts(staged, dialect));
      }
    }
  });

  it('writes a part again with the quoting in SQL at the first # or U+FEFF, and the parts after it at once', async () => {
    for (const [value, split] of [
      [`'a#b'`, undefined],
      [`'x' || chr(65279) || 'y'`, undefined],
      [`'#'`, 3],
    ] as const) {
      const staged = await stage(engine, {
        runId: `retry-${runs++}`,
        sql: `SELECT i AS id, CASE WHEN i = 4 THEN ${value} ELSE 'v' || i END AS v FROM range(10) r(i)`,
        parameters: [],
      });
      const dialect = d({ maxRowsPerFile: split });
      const before = { ...engine.csvParts };
      const duck = (await duckParts(staged, dialect))!;
      // Split by 3: part 0 (ids 0-2) is DuckDB's own, part 1 (ids 3-5) is retried, parts 2 and 3 go to SQL at once.
      expect(partsSince(before)).toEqual(split ? { native: 1, sql: 3, retried: 1 } : { native: 0, sql: 1, retried: 1 });
      expectSameBytes(duck, await nodeParts(staged, dialect));
    }
  });

  it('stops DuckDB at the first # of a large export and writes it again, gzipped too', async () => {
    const staged = await stage(engine, {
      runId: 'retry-large',
      sql: `SELECT i AS id, 'v' || i || CASE WHEN i = 1000 THEN '#' ELSE '' END AS v, md5(i::VARCHAR) AS t FROM range(400000) r(i)`,
      parameters: [],
    });
    for (const dialect of [d(), d({ gzip: true })]) {
      const before = { ...engine.csvParts };
      const duck = (await duckParts(staged, dialect))!;
      expect(partsSince(before)).toEqual({ native: 0, sql: 1, retried: 1 });
      expectSameBytes(duck, await nodeParts(staged, dialect, 2048));
    }
  });

  it('writes a header-only file for zero rows, and an empty one without header', async () => {
    const header = await duckParts(empty, d());
    expect(header!.map((p) => [p.rows, p.bytes.toString('utf8')])).toEqual([[0, `${empty.columns.map((c) => c.name).join(',')}\n`]]);
    const none = await duckParts(empty, d({ header: false, maxRowsPerFile: 5 }));
    expect(none!.map((p) => [p.rows, p.bytes.length])).toEqual([[0, 0]]);
  });

  it('keeps the staged order across row groups read in parallel, whole and split', async () => {
    // Past DuckDB's 122,880-row row groups, so the scan runs on several threads.
    const staged = await stage(engine, {
      runId: 'many',
      sql: `SELECT i AS id, CASE WHEN i % 7 = 0 THEN NULL ELSE 'v' || (i * 7919 % 1000) || CASE WHEN i % 5 = 0 THEN ',"x"' ELSE '' END END AS v FROM range(300000) r(i) ORDER BY i % 3, i DESC`,
      parameters: [],
    });
    for (const dialect of [d(), d({ maxRowsPerFile: 130000 })]) {
      expectSameBytes((await duckParts(staged, dialect))!, await nodeParts(staged, dialect, 2048));
    }
  });

  it('splits a table with gaps in its rowids (rows deleted) by order instead of by rowid range', async () => {
    // HUGEINT does not survive Parquet, so this result is staged as a table, which can lose rows.
    const staged = await stage(engine, { runId: 'gaps', sql: `SELECT i AS id, 'v' || i AS v, i::HUGEINT AS big FROM range(20) r(i)`, parameters: [] });
    // The engine runs only SELECTs: delete through DuckDB itself, on the staged database file.
    await engine.dropStaged(staged);
    const db = await DuckDBInstance.create(store.localPath(staged.location));
    const c = await db.connect();
    await c.run(`DELETE FROM staged WHERE id IN (0, 3, 4, 11)`);
    c.closeSync();
    db.closeSync();
    const dialect = d({ maxRowsPerFile: 5 });
    const duck = (await duckParts(staged, dialect))!;
    expect(duck.map((p) => p.rows)).toEqual([5, 5, 5, 1]);
    expectSameBytes(duck, await nodeParts(staged, dialect));
  });

  it('reads every code point back from DuckDB: U+FEFF leading, inside and alone, NUL, U+2028, emoji, combining marks', async () => {
    const staged = await stage(engine, {
      runId: 'code-points',
      sql: `SELECT chr(65279) || 'a' AS lead, 'b' || chr(65279) AS inside, chr(65279) AS alone, 'n' || chr(0) || 'ul' AS nul, 'x' || chr(8232) || 'y' AS ls, '👩‍👧 e' || chr(769) AS marks`,
      parameters: [],
    });
    const rows: (string | null)[][] = [];
    for await (const batch of engine.streamText(staged, 10)) rows.push(...batch);
    expect(rows).toEqual([['\uFEFFa', 'b\uFEFF', '\uFEFF', 'n\u0000ul', 'x\u2028y', '👩\u200d👧 e\u0301']]);
  });

  it('quotes a value or name starting with U+FEFF, so a part never starts with bytes a reader takes for a BOM', async () => {
    const staged = await stage(engine, { runId: 'bom-first', sql: `SELECT chr(65279) || 'v' AS "\uFEFFname", chr(65279) AS b`, parameters: [] });
    for (const [dialect, expected] of [
      [d(), '"\uFEFFname",b\n"\uFEFFv","\uFEFF"\n'],
      [d({ header: false }), '"\uFEFFv","\uFEFF"\n'],
      [d({ encoding: 'utf-8-bom' }), '\uFEFF"\uFEFFname",b\n"\uFEFFv","\uFEFF"\n'],
    ] as const) {
      const duck = (await duckParts(staged, dialect))!;
      expect(duck.map((p) => p.bytes.toString('utf8'))).toEqual([expected]);
      expectSameBytes(duck, await nodeParts(staged, dialect));
    }
  });

  it('quotes what csv-stringify quotes, not what DuckDB alone would (# is data, not a comment)', async () => {
    const staged = await stage(engine, { runId: 'hash', sql: `SELECT '#x' AS a, 'a#b' AS b, NULL AS c, '' AS e`, parameters: [] });
    const [part] = (await duckParts(staged, d()))!;
    expect(part.bytes.toString('utf8')).toBe('a,b,c,e\n#x,a#b,,""\n');
  });
});

describe('the render step stores the DuckDB export like the Node writer', () => {
  /** The same engine without the fast path: render must fall back to the Node writer. */
  const nodeOnly = (e: QueryEngine): QueryEngine => ({
    dialect: e.dialect,
    compileStage: (r) => e.compileStage(r),
    execute: (s) => e.execute(s),
    describeStage: (r, x) => e.describeStage(r, x),
    query: (s, t) => e.query(s, t),
    streamText: (t, n) => e.streamText(t, n),
    exportParquet: (t, o) => e.exportParquet(t, o),
    dropStaged: (t) => e.dropStaged(t),
    close: () => e.close(),
  });

  async function render(dialect: CsvDialect, withEngine: QueryEngine, label: string) {
    const prefix = `render-${label}-${runs++}/`;
    const state = { plan: { feed: 'f' }, stagingPrefix: prefix, staged: adversarial } as unknown as RunState;
    const feeds = { get: () => ({ spec: { formats: { csv: dialect } } }) as unknown as FeedDefinition };
    const progress: [number, number][] = [];
    const files = await renderFormatStep(state, 'csv', { engine: withEngine, store, feeds, onProgress: (p) => progress.push([p.rows, p.bytes]) });
    const stored = await Promise.all(files.map((f) => readFile(store.localPath(f.stagingKey))));
    return { files, stored, progress };
  }

  for (const [name, dialect] of [
    ['gzip, split every 4 rows', d({ gzip: true, maxRowsPerFile: 4 })],
    ['plain', d()],
  ] as const) {
    it(`same files, rows and decompressed bytes; hashes of what is stored: ${name}`, async () => {
      const fast = await render(dialect, engine, 'fast');
      const slow = await render(dialect, nodeOnly(engine), 'node');
      expect(fast.files.map((f) => [f.path, f.rows, f.compression])).toEqual(slow.files.map((f) => [f.path, f.rows, f.compression]));
      const plainOf = (b: Buffer) => (dialect.gzip ? gunzipSync(b) : b);
      for (const [i, f] of fast.files.entries()) {
        expect(plainOf(fast.stored[i]).equals(plainOf(slow.stored[i]))).toBe(true);
        expect(f.bytes).toBe(fast.stored[i].length);
        expect(f.sha256).toBe(createHash('sha256').update(fast.stored[i]).digest('hex'));
      }
      const totalBytes = fast.files.reduce((n, f) => n + f.bytes, 0);
      expect(fast.progress.at(-1)).toEqual([adversarial.rowCount, totalBytes]);
    });
  }
});

describe('NativeQuotingCheck', () => {
  /** Whether the check flags the bytes read in these pieces. */
  const flags = (dialect: CsvDialect, ...pieces: Buffer[]) => {
    const check = new NativeQuotingCheck(dialect);
    return pieces.map((p) => check.scan(p)).at(-1);
  };
  const feff = Buffer.from('\uFEFF');

  it('flags # and U+FEFF anywhere, also U+FEFF split across reads', () => {
    expect(flags(d(), Buffer.from('a,b\nx,y\n'))).toBe(false);
    expect(flags(d(), Buffer.from('a,b\n'), Buffer.from('x#,y\n'))).toBe(true);
    expect(flags(d(), Buffer.from('a,b\nx'), feff, Buffer.from('\n'))).toBe(true);
    for (const cut of [1, 2]) expect(flags(d(), Buffer.from('a,b\nx'), feff.subarray(0, cut), feff.subarray(cut), Buffer.from('\n'))).toBe(true);
    expect(flags(d(), Buffer.from('a'), feff.subarray(0, 1), feff.subarray(1, 2), feff.subarray(2))).toBe(true);
    // Bytes of U+FEFF's encoding that are not it.
    expect(flags(d(), Buffer.from([0x61, 0xef]), Buffer.from([0xbb, 0x61, 0xbf]))).toBe(false);
  });

  it("skips the dialect's own BOM at the start of the file, even read in pieces", () => {
    expect(flags(d({ encoding: 'utf-8-bom' }), Buffer.concat([feff, Buffer.from('a,b\n')]))).toBe(false);
    expect(flags(d({ encoding: 'utf-8-bom' }), feff.subarray(0, 2), feff.subarray(2), Buffer.from('a\n'))).toBe(false);
    expect(flags(d({ encoding: 'utf-8-bom' }), Buffer.concat([feff, Buffer.from('a\n'), feff]))).toBe(true);
    expect(flags(d(), Buffer.concat([feff, Buffer.from('a\n')]))).toBe(true);
  });
});
