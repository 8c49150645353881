import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import type { LocalStore } from '../../lib/adapters/local/local-store';
import { csvSchema } from '../../lib/core/feed/feed-schema';
import type { StagedTable } from '../../lib/core/ports/query-engine';
import { collectText, openTestEngine, stage } from '../helpers/engine';

/**
 * Values that Parquet or the canonical CSV text used to change on the way to a file (issue 14):
 * each is staged, rendered to CSV text and to Parquet, and read back by a separate DuckDB.
 */
describe('exact values', () => {
  let engine: DuckDbEngine;
  let store: LocalStore;
  let root: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ engine, store, root, cleanup } = await openTestEngine());
  });
  afterEach(async () => cleanup());

  let attempts = 0;
  async function staged(sql: string): Promise<StagedTable> {
    return stage(engine, { runId: 'values', sql, attemptId: `a${attempts++}` });
  }

  /** The staged rows as the DuckDB CSV writer renders them (its fields, unquoted by the comma dialect when plain). */
  async function csvByDuckDb(table: StagedTable): Promise<string> {
    const dialect = csvSchema.parse({ gzip: false, header: false });
    const files = await engine.exportCsv(table, { dialect, prefix: `out/csv${attempts}/` });
    expect(files).toBeDefined();
    return (await store.get(files![0].key))!.body.toString('utf8');
  }

  /** A field of the default comma dialect. */
  const csvField = (v: string | null): string => (v === null ? '' : /[,"]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

  /** Writes the staged rows as Parquet and reads them back: values as text, and the file's column types. */
  async function parquetReadBack(table: StagedTable): Promise<{ rows: unknown[][]; types: string[] }> {
    const files = await engine.exportParquet(table, { compression: 'zstd', prefix: `out/pq${attempts}/` });
    const path = join(root, 'store', files[0].key);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const names = table.columns.map((col) => `"${col.name}"::VARCHAR`).join(', ');
      const rows = (await c.runAndReadAll(`SELECT ${names} FROM read_parquet('${path}')`)).getRowsJson() as unknown[][];
      const types = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).getRowsJson().map((r) => String((r as unknown[])[1]));
      return { rows, types };
    } finally {
      c.closeSync();
      db.closeSync();
    }
  }

  describe('INTERVAL', () => {
    const sql = `SELECT INTERVAL '2000 hours' AS a, INTERVAL '1 microsecond' AS b, [INTERVAL '1200 hours', INTERVAL '-1 day', NULL] AS l,
      INTERVAL '-1 day' AS n, INTERVAL '14 months -3 days 4 hours 5 minutes 6.5 seconds' AS m, - INTERVAL '4 hours 5 minutes 6.25 seconds' AS neg,
      INTERVAL '0 seconds' AS z, INTERVAL '-14 months' AS ym, NULL::INTERVAL AS nul, INTERVAL '1 month -30 days' AS mixed, INTERVAL '1 day -24 hours' AS dh`;
    const expected = [
      'PT2000H',
      'PT0.000001S',
      '["PT1200H","P-1D",null]',
      'P-1D',
      'P1Y2M-3DT4H5M6.5S',
      'PT-4H-5M-6.25S',
      'PT0S',
      'P-1Y-2M',
      null,
      'P1M-30D',
      'P1DT-24H',
    ];

    it('renders intervals as exact ISO-8601 durations in CSV, negative ones included', async () => {
      const table = await staged(sql);
      expect(await collectText(engine, table)).toEqual([expected]);
      expect(await csvByDuckDb(table)).toBe(expected.map(csvField).join(',') + '\n');
    });

    it('writes intervals to Parquet as the same ISO-8601 strings, which keep every microsecond', async () => {
      const { rows, types } = await parquetReadBack(await staged(sql));
      expect(rows).toEqual([[...expected.slice(0, 2), '[PT1200H, P-1D, NULL]', ...expected.slice(3)]]);
      expect(types).toEqual(['VARCHAR', 'VARCHAR', 'VARCHAR[]', ...expected.slice(3).map(() => 'VARCHAR')]);
    });
  });

  describe('HUGEINT and UHUGEINT', () => {
    it('writes them to Parquet as DECIMAL(38,0), every digit kept', async () => {
      const { rows, types } = await parquetReadBack(
        await staged(
          `SELECT 99999999999999999999999999999999999999::HUGEINT AS h, -12::HUGEINT AS small, 99999999999999999999999999999999999999::UHUGEINT AS u, [1::HUGEINT] AS l`,
        ),
      );
      expect(rows).toEqual([['99999999999999999999999999999999999999', '-12', '99999999999999999999999999999999999999', '[1]']]);
      expect(types).toEqual(['DECIMAL(38,0)', 'DECIMAL(38,0)', 'DECIMAL(38,0)', 'DECIMAL(38,0)[]']);
    });

    it('refuses a value beyond 38 digits, naming the column and the fix, instead of rounding it', async () => {
      const table = await staged(`SELECT 1 AS id, 170141183460469231731687303715884105727::HUGEINT AS h`);
      await expect(engine.exportParquet(table, { compression: 'zstd', prefix: 'out/too-big/' })).rejects.toThrow(
        /column "h" \(HUGEINT\) holds 170141183460469231731687303715884105727, which DECIMAL\(38,0\).*CAST the column AS VARCHAR/s,
      );
      // CSV holds the exact digits.
      expect(await collectText(engine, table)).toEqual([['1', '170141183460469231731687303715884105727']]);
    });
  });

  describe('inside structs, maps and arrays', () => {
    it('converts nested values the same way, keeps a NULL struct NULL, and parquetType names what the file holds', async () => {
      const table = await staged(
        `SELECT {'d': 1.10::DECIMAL(5,2), 'i': INTERVAL '2 days', 'h': 5::HUGEINT, 'odd name': '01:00:00+01'::TIMETZ} AS s, MAP {'k': INTERVAL '-1 day'} AS m,
          NULL::STRUCT(i INTERVAL) AS ns, [1, 2]::HUGEINT[2] AS arr, 7 AS plain`,
      );
      const { rows, types } = await parquetReadBack(table);
      expect(rows).toEqual([["{'d': 1.10, 'i': P2D, 'h': 5, 'odd name': '01:00:00+01'}", '{k=P-1D}', null, '[1, 2]', '7']]);
      expect(types).toEqual(table.columns.map((c) => c.parquetType ?? c.type));
      expect(table.columns.map((c) => c.parquetType)).toEqual([
        'STRUCT(d DECIMAL(5,2), i VARCHAR, h DECIMAL(38,0), "odd name" VARCHAR)',
        'MAP(VARCHAR, VARCHAR)',
        'STRUCT(i VARCHAR)',
        'DECIMAL(38,0)[]',
        undefined,
      ]);
    });
  });

  describe('awkward nested types', () => {
    it('renders and converts structs with quoted, keyword and comma names, enums and maps of structs', async () => {
      const table = await staged(
        `SELECT {'a b': 1.10::DECIMAL(5,2), 'c"d': [1::HUGEINT], 'e,f': 'x'::ENUM('p,q', 'x', 'it''s'), 'select': INTERVAL 1 DAY} AS s,
          MAP {'k': {'t': TIMESTAMPTZ '2024-01-01 00:00:00+00', 'i': INTERVAL '-1 day'}} AS m, NULL::STRUCT(d DECIMAL(3,1))[] AS ns`,
      );
      expect(await collectText(engine, table)).toEqual([
        ['{"a b":1.10,"c\\"d":[1],"e,f":"x","select":"P1D"}', '{"k":{"t":"2024-01-01T00:00:00Z","i":"P-1D"}}', null],
      ]);
      const { rows } = await parquetReadBack(table);
      expect(rows).toEqual([[`{'a b': 1.10, 'c"d': [1], 'e,f': x, 'select': P1D}`, "{k={'t': '2024-01-01 00:00:00+00', 'i': P-1D}}", null]]);
    });
  });

  describe('BIGNUM, BIT and ENUM', () => {
    it('are written to Parquet as their text, and parquetType says VARCHAR', async () => {
      const table = await staged(`SELECT '123456789012345678901234567890123456789012'::BIGNUM AS v, '101'::BIT AS b, 'x'::ENUM('x', 'y') AS e`);
      expect(await collectText(engine, table)).toEqual([['123456789012345678901234567890123456789012', '101', 'x']]);
      const { rows, types } = await parquetReadBack(table);
      expect(rows).toEqual([['123456789012345678901234567890123456789012', '101', 'x']]);
      expect(types).toEqual(['VARCHAR', 'VARCHAR', 'VARCHAR']);
      expect(table.columns.map((c) => c.parquetType)).toEqual(['VARCHAR', 'VARCHAR', 'VARCHAR']);
    });
  });

  describe('TIME WITH TIME ZONE', () => {
    it('keeps the offset in Parquet and CSV', async () => {
      const table = await staged(`SELECT '12:34:56+05:30'::TIMETZ AS t, ['23:00:00.5-08'::TIMETZ] AS l`);
      expect(await collectText(engine, table)).toEqual([['12:34:56+05:30', '["23:00:00.5-08"]']]);
      const { rows, types } = await parquetReadBack(table);
      expect(rows).toEqual([['12:34:56+05:30', "['23:00:00.5-08']"]]);
      expect(types).toEqual(['VARCHAR', 'VARCHAR[]']);
    });
  });

  describe('nested values in CSV', () => {
    it('keeps the scale of decimals inside lists, structs and maps', async () => {
      const table = await staged(
        `SELECT [1.10::DECIMAL(5,2), NULL] AS l, {'a': 1.10::DECIMAL(5,2), 'b': 'x'} AS s, MAP {'k': 2.50::DECIMAL(4,2)} AS m, [[0.000::DECIMAL(4,3)]] AS ll`,
      );
      const expected = ['[1.10,null]', '{"a":1.10,"b":"x"}', '{"k":2.50}', '[[0.000]]'];
      expect(await collectText(engine, table)).toEqual([expected]);
      expect(await csvByDuckDb(table)).toBe(expected.map(csvField).join(',') + '\n');
    });

    it('renders timestamps, blobs and intervals inside nested values as at the top level', async () => {
      const table = await staged(
        `SELECT [TIMESTAMP '2024-01-15 06:00:00.5'] AS t, {'z': TIMESTAMPTZ '2024-01-15 07:00:00+01', 'b': '\\xFF'::BLOB, 'i': INTERVAL '2 days'} AS s`,
      );
      expect(await collectText(engine, table)).toEqual([['["2024-01-15T06:00:00.500000Z"]', '{"z":"2024-01-15T06:00:00Z","b":"/w==","i":"P2D"}']]);
    });
  });

  describe('timestamps and dates outside years 0000-9999', () => {
    it('writes ISO-8601 expanded years: a sign, at least four digits', async () => {
      const table = await staged(
        `SELECT TIMESTAMP '-0043-03-15 01:02:03' AS bc, TIMESTAMP '10000-01-01 00:00:00' AS far, TIMESTAMPTZ '-0043-03-15 01:02:03.25+00' AS bctz,
          DATE '-0043-03-15' AS d, DATE '0999-01-01' AS d999, 'infinity'::TIMESTAMP AS inf, TIMESTAMP '0001-01-01 00:00:00' AS y1,
          DATE '0000-06-01' AS d0, TIMESTAMP '0000-06-01 00:00:00' AS t0, DATE '10000-01-01' AS dfar, '-infinity'::DATE AS dinf`,
      );
      const expected = [
        '-0043-03-15T01:02:03Z',
        '+10000-01-01T00:00:00Z',
        '-0043-03-15T01:02:03.250000Z',
        '-0043-03-15',
        '0999-01-01',
        'infinity',
        '0001-01-01T00:00:00Z',
        '0000-06-01',
        '0000-06-01T00:00:00Z',
        '+10000-01-01',
        '-infinity',
      ];
      expect(await collectText(engine, table)).toEqual([expected]);
      expect(await csvByDuckDb(table)).toBe(expected.join(',') + '\n');
    });
  });
});
