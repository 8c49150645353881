import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbEngine, stagedName } from '../../lib/adapters/duckdb/duckdb-engine';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { collectText, openTestEngine, stage } from '../helpers/engine';
import type { StagedTable } from '../../lib/core/ports/query-engine';
import { CONTRACT_SOURCE_SQL, queryEngineContract } from '../contract/query-engine.contract';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dropkit-duckdb-test-'));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (${CONTRACT_SOURCE_SQL}) TO '${join(dir, 'src.parquet')}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
  await writeFile(join(dir, 'people.csv'), 'id,name,nick\n1,Ann,""\n2,Bo,\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

queryEngineContract('DuckDbEngine', async (store) => {
  const under = await openTestEngine({ sources: { src: { path: join(dir, 'src.parquet'), format: 'parquet' } }, ...(store ? { store } : {}) });
  return {
    ...under,
    // A view over the staged Parquet reads the file afresh, so ask DuckDB's catalog for the view or attached database.
    holds: async (staged: StagedTable, other: StagedTable) => {
      const name = stagedName(staged.location).replace(/'/g, "''");
      const sql = `SELECT count(*) AS n FROM (SELECT view_name AS name FROM duckdb_views() UNION ALL SELECT database_name FROM duckdb_databases()) WHERE name = '${name}'`;
      const [row] = await under.engine.query(sql, other);
      return Number(row.n) > 0;
    },
  };
});

describe('DuckDbEngine', () => {
  let engine: DuckDbEngine;
  let store: LocalStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ engine, store, cleanup } = await openTestEngine({ sources: { people: { path: join(dir, 'people.csv'), format: 'csv' } } }));
  });
  afterEach(async () => cleanup());

  let attempts = 0;
  async function text(sql: string): Promise<{ staged: StagedTable; rows: (string | null)[][] }> {
    const staged = await stage(engine, { runId: 'canon', sql, parameters: [], attemptId: `a${attempts++}` });
    const rows: (string | null)[][] = [];
    for await (const b of engine.streamText(staged)) rows.push(...b);
    return { staged, rows };
  }

  it('renders decimals exactly, with their full scale', async () => {
    const { rows } = await text(`SELECT 0.10::DECIMAL(12,2) AS a, 12345678901234567890.1234567890::DECIMAL(38,10) AS b, -0.5::DECIMAL(4,1) AS c`);
    expect(rows).toEqual([['0.10', '12345678901234567890.1234567890', '-0.5']]);
  });

  it('renders booleans as true/false and NULL as null, distinct from an empty string', async () => {
    const { rows } = await text(`SELECT true AS t, false AS f, NULL::BOOLEAN AS n, '' AS e, NULL::VARCHAR AS v`);
    expect(rows).toEqual([['true', 'false', null, '', null]]);
  });

  it('renders timestamps as ISO-8601 UTC, converting offsets and keeping microseconds', async () => {
    const { rows } = await text(
      `SELECT TIMESTAMP '2024-01-15 06:00:00' AS a, TIMESTAMPTZ '2024-01-15 07:00:00+01' AS b, TIMESTAMP '2024-03-31 01:02:03.123456' AS c, DATE '2024-02-29' AS d`,
    );
    expect(rows).toEqual([['2024-01-15T06:00:00Z', '2024-01-15T06:00:00Z', '2024-03-31T01:02:03.123456Z', '2024-02-29']]);
  });

  it('renders doubles in shortest round-trip form and nested values as JSON', async () => {
    const { rows } = await text(`SELECT 0.1::DOUBLE AS d, [1, 2] AS l, {'k': 'v'} AS s`);
    expect(rows).toEqual([['0.1', '[1,2]', '{"k":"v"}']]);
  });

  it('reads a quoted empty string in a CSV source as an empty string, not NULL', async () => {
    const { rows } = await text('SELECT nick FROM people ORDER BY id');
    expect(rows).toEqual([[''], [null]]);
  });

  it('reports column types and nullability of the staged table', async () => {
    const { staged } = await text(`SELECT 1::BIGINT AS id, 'x' AS name`);
    expect(staged.columns).toEqual([
      { name: 'id', type: 'BIGINT', nullable: true },
      { name: 'name', type: 'VARCHAR', nullable: true },
    ]);
  });

  it('streams a large staged table in batches without losing rows', async () => {
    const staged = await stage(engine, { runId: 'big', sql: 'SELECT range AS i FROM range(100000)', parameters: [] });
    let rows = 0;
    let batches = 0;
    for await (const b of engine.streamText(staged, 5000)) {
      rows += b.length;
      batches++;
    }
    expect(rows).toBe(100000);
    expect(batches).toBeGreaterThan(1);
  });

  it('stages a result as a zstd Parquet file when every type survives Parquet, and hands that file over as the Parquet drop', async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropkit-staged-'));
    try {
      const staged = await stage(engine, {
        runId: 'pq-staged',
        sql: `SELECT range AS id, 'x' || range AS s, range::DECIMAL(10,2) AS d FROM range(1000)`,
        parameters: [],
      });
      expect(staged.format).toBe('parquet');
      expect(staged.location).toBe('_staging/pq-staged/a1/staged.parquet');
      const stagedBytes = await readFile(store.localPath(staged.location));
      const files = await engine.exportParquet(staged, { compression: 'zstd', prefix: 'out/' });
      expect(files.map((f) => [f.key, f.rows])).toEqual([['out/part-00000.parquet', 1000]]);
      // The very file staged, not a second pass over it.
      expect((await readFile(store.localPath('out/part-00000.parquet'))).equals(stagedBytes)).toBe(true);
      const split = await engine.exportParquet(staged, { compression: 'snappy', maxRowsPerFile: 400, prefix: 'out/split/' });
      expect(split.map((f) => f.rows)).toEqual([400, 400, 200]);
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const first = (await c.runAndReadAll(`SELECT min(id) AS lo, max(id) AS hi FROM read_parquet('${store.localPath(split[1].key)}')`)).getRowObjects()[0];
      c.closeSync();
      db.closeSync();
      expect([Number(first.lo), Number(first.hi)]).toEqual([400, 799]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('stages a result with a type Parquet would change (HUGEINT, ENUM, STRUCT) as a table, keeping the type', async () => {
    const { staged } = await text(`SELECT 170141183460469231731687303715884105727::HUGEINT AS h, {'k': 1} AS s`);
    expect(staged.columns.map((c) => c.type)).toEqual(['HUGEINT', 'STRUCT(k INTEGER)']);
    const { rows } = await text(`SELECT 170141183460469231731687303715884105727::HUGEINT AS h`);
    expect(rows).toEqual([['170141183460469231731687303715884105727']]);
  });

  it('re-staging a run replaces a Parquet-staged result with a table-staged one and back', async () => {
    const a = await stage(engine, { runId: 'swap', sql: 'SELECT 1 AS x', parameters: [] });
    const b = await stage(engine, { runId: 'swap', sql: 'SELECT 2::HUGEINT AS x', parameters: [] });
    const c = await stage(engine, { runId: 'swap', sql: 'SELECT 3 AS x', parameters: [] });
    expect([a.format, b.format, c.format]).toEqual(['parquet', 'duckdb', 'parquet']);
    expect(a.table).toBe(c.table);
    const [row] = await engine.query(`SELECT x FROM ${c.table}`, c);
    expect(Number(row.x)).toBe(3);
  });

  it('keeps nanosecond timestamps to the nanosecond', async () => {
    const { rows } = await text(`SELECT TIMESTAMP_NS '2024-01-15 06:00:00.123456789' AS ns, TIMESTAMP_NS '2024-01-15 06:00:00' AS whole`);
    expect(rows).toEqual([['2024-01-15T06:00:00.123456789Z', '2024-01-15T06:00:00Z']]);
  });

  it('lets feed SQL read its declared sources and no other file on the machine', async () => {
    await expect(text(`SELECT * FROM read_csv('/etc/passwd')`)).rejects.toThrow(/disabled|Permission/i);
    await expect(text(`SELECT * FROM read_text('${join(dir, 'src.parquet')}')`)).rejects.toThrow(/disabled|Permission/i);
    const { rows } = await text(`SELECT count(*) FROM people`);
    expect(rows).toEqual([['2']]);
  });

  it('lets no statement loosen the confinement', async () => {
    const { staged } = await text(`SELECT 1 AS x`);
    await expect(engine.query(`SET enable_external_access = true`, staged)).rejects.toMatchObject({ name: 'QueryFailedError' });
    await expect(text(`SELECT * FROM (SELECT 1) t; SET enable_external_access = true`)).rejects.toThrow();
    await expect(text(`SELECT current_setting('enable_external_access') AS v`)).resolves.toMatchObject({ rows: [['false']] });
  });
});

describe('DuckDbEngine across instances', () => {
  it('runs a table-staging statement compiled by another instance (its setup attaches the staging database)', async () => {
    const first = await openTestEngine();
    const second = await openTestEngine({ store: first.store });
    try {
      const request = {
        runId: 'cross',
        attemptId: 'a1',
        stagingPrefix: '_staging/cross/a1/',
        sql: 'SELECT 170141183460469231731687303715884105727::HUGEINT AS h',
        parameters: [],
      };
      const statement = JSON.parse(JSON.stringify(await first.engine.compileStage(request)));
      await first.engine.close();
      expect(statement.setup).toEqual([expect.stringMatching(/^ATTACH IF NOT EXISTS /)]);
      const staged = await second.engine.describeStage(request, await second.engine.execute(statement));
      expect(staged.format).toBe('duckdb');
      expect(await collectText(second.engine, staged)).toEqual([['170141183460469231731687303715884105727']]);
    } finally {
      await second.cleanup();
      await first.cleanup();
    }
  });
});
