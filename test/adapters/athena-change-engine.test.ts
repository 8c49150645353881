import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DuckDBInstance } from '@duckdb/node-api';
import { AthenaChangeEngine, athenaDiffStatements, hiveType } from '../../lib/adapters/athena/athena-change-engine';
import { DuckDbDestinationEngine } from '../../lib/adapters/duckdb/duckdb-destination';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { localFolderDestination } from '../../lib/adapters/local/local-destination';
import { deliverDestinations } from '../../lib/core/destinations/deliver';
import { fixedClock } from '../../lib/core/ports/clock';
import type { DiffRequest } from '../../lib/core/destinations/change-engine';
import { publishDrop } from '../destinations/drops';
import { FakeAthena } from '../helpers/fake-athena';
import { athenaGrammarErrors } from '../helpers/sql-grammars';

const BASE = `SELECT * FROM (VALUES (1, 'a', 10.5), (2, 'b', 20.0), (3, 'c', NULL), (4, 'gone', 1.0)) t(id, name, amount)`;
const CUR = `SELECT * FROM (VALUES (1, 'a', 10.5), (2, 'B', 20.0), (3, 'c', 3.0), (5, 'new', 5.0)) t(id, name, amount)`;
const parquetKeys = (manifestKey: string) => [manifestKey.replace('manifest.json', 'part-00000.parquet')];

describe('AthenaChangeEngine', () => {
  it('compiles to Hive DDL (symlink tables, backticks) and Trino queries that the grammars take', () => {
    const request: DiffRequest = { base: ['a/x.parquet'], current: ['b/y.parquet'], primaryKey: ['id'], columns: ['id', 'name', 'amount'], outPrefix: 'o/' };
    const s = athenaDiffStatements(request, ['INTEGER', 'VARCHAR', 'DECIMAL(12,2)'], { database: 'dk_staging', tag: 't1', location: (n) => `s3://b/o/${n}` });
    const all = [s.createBase!, s.createCur, s.duplicateKeys, ...Object.values(s.changes), ...s.drops];
    for (const sql of all) expect({ sql, ...athenaGrammarErrors(sql) }).toMatchObject({ errors: [] });
    expect(s.createCur).toMatch(/^CREATE EXTERNAL TABLE `dk_staging`\.`dropkit_diff_t1_cur` \(`id` int, `name` string, `amount` decimal\(12,2\)\)/);
    expect(s.createCur).toContain("INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'");
    // One file per change set: bucketed into one bucket.
    expect(s.changes.updates).toMatch(/bucketed_by = ARRAY\['id'\], bucket_count = 1\) AS SELECT .* IS DISTINCT FROM /);
    // A first sync reads no base table.
    const first = athenaDiffStatements({ ...request, base: null }, ['INTEGER', 'VARCHAR', 'DECIMAL(12,2)'], { database: 'd', tag: 't', location: (n) => n });
    expect(first.createBase).toBeNull();
    expect(first.changes.inserts).toContain('(SELECT * FROM "d"."dropkit_diff_t_cur" WHERE FALSE) b');
  });

  it('refuses a column type it cannot declare, naming it', () => {
    expect(hiveType('TIMESTAMP WITH TIME ZONE')).toBe('timestamp');
    expect(() => hiveType('STRUCT(a INTEGER)')).toThrow(/column type STRUCT\(a INTEGER\) has no Hive spelling/);
  });

  it('computes the same inserts, updates and deletes as the DuckDB engine, over the fake Athena', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dropkit-athena-diff-'));
    const store = new LocalStore(dir);
    const fake = await FakeAthena.create(store, 'drops');
    const stub = fake.install(AthenaClient as unknown as AthenaClient);
    const duck = await DuckDbDestinationEngine.open({ store, workDir: dir, threads: 1 });
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const base = await publishDrop(store, 'r1', BASE, '20240114T060000Z');
      const cur = await publishDrop(store, 'r2', CUR);
      const request = (outPrefix: string): DiffRequest => ({
        base: parquetKeys(base.manifestKey),
        current: parquetKeys(cur.manifestKey),
        primaryKey: ['id'],
        columns: ['id', 'name', 'amount'],
        outPrefix,
      });
      const athena = new AthenaChangeEngine({
        workGroup: 'wg',
        database: 'dk_staging',
        store,
        bucket: 'drops',
        client: new AthenaClient({}),
        sleep: async () => undefined,
      });
      const got = await athena.diff(request('athena/'));
      const want = await duck.diff(request('duckdb/'));
      const rows = async (key: string) => (await c.runAndReadAll(`SELECT * FROM read_parquet('${store.localPath(key)}') ORDER BY id`)).getRowObjectsJson();
      for (const op of ['inserts', 'updates', 'deletes'] as const) {
        expect({ op, rows: got[op].rows }).toEqual({ op, rows: want[op].rows });
        expect(await rows(got[op].key)).toEqual(await rows(want[op].key));
      }
      expect((await rows(got.updates.key)).map((r) => r.id)).toEqual([2, 3]);
      expect(got.inserts.key).toBe('athena/inserts.parquet');
      // Its scratch (symlink lists, CTAS folders) and tables are gone.
      const left: string[] = [];
      for await (const o of store.list('athena/_athena/')) left.push(o.key);
      expect(left).toEqual([]);

      // The row reader gives the API destination the same rows, typed the same, as the DuckDB reader.
      const read = async (reader: { rows: DuckDbDestinationEngine['rows'] }, keys: string[]) => {
        const out: unknown[][] = [];
        // DuckDB's reader also sees the layout's slot=/run= folders as columns (hive partitioning); the API mapping never sends them.
        for await (const batch of reader.rows(keys, { batchRows: 2, orderBy: ['id'] }))
          out.push(batch.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'slot' && k !== 'run'))));
        return out;
      };
      for (const keys of [parquetKeys(cur.manifestKey), [got.updates.key], [got.deletes.key]]) {
        const duckKeys = keys.map((k) => k.replace(/^athena\//, 'duckdb/'));
        expect(await read(athena, keys)).toEqual(await read(duck, duckKeys));
      }
      expect((await read(athena, [got.deletes.key])).flat()).toEqual([{ id: 4 }]);
      const scratch: string[] = [];
      for await (const o of store.list('_deliveries/')) scratch.push(o.key);
      expect(scratch).toEqual([]);

      // A first sync: every row an insert.
      const first = await athena.diff({ ...request('first/'), base: null });
      expect([first.inserts.rows, first.updates.rows, first.deletes.rows]).toEqual([4, 0, 0]);
    } finally {
      c.closeSync();
      db.closeSync();
      await duck.close();
      stub.restore();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['no-file', 'empty-object'] as const)(
    'takes a CTAS of no rows that leaves %s as an empty change set: a Parquet file with the columns and 0 rows, read and delivered as such',
    async (leaves) => {
      const dir = mkdtempSync(join(tmpdir(), 'dropkit-athena-diff-'));
      const store = new LocalStore(dir);
      const fake = await FakeAthena.create(store, 'drops');
      fake.ctasOfNoRows = leaves;
      const stub = fake.install(AthenaClient as unknown as AthenaClient);
      const duck = await DuckDbDestinationEngine.open({ store, workDir: dir, threads: 1 });
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      try {
        // The same rows twice: nothing inserted, updated or deleted.
        const base = await publishDrop(store, 'r1', CUR, '20240114T060000Z');
        const cur = await publishDrop(store, 'r2', CUR);
        const request = (outPrefix: string): DiffRequest => ({
          base: parquetKeys(base.manifestKey),
          current: parquetKeys(cur.manifestKey),
          primaryKey: ['id'],
          columns: ['id', 'name', 'amount'],
          outPrefix,
        });
        const athena = new AthenaChangeEngine({
          workGroup: 'wg',
          database: 'dk_staging',
          store,
          bucket: 'drops',
          client: new AthenaClient({}),
          sleep: async () => undefined,
        });
        const got = await athena.diff(request('athena/'));
        const want = await duck.diff(request('duckdb/'));
        const described = async (key: string) =>
          (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${store.localPath(key)}')`))
            .getRowObjectsJson()
            .map((r) => `${r.column_name} ${r.column_type}`);
        const count = async (key: string) => Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${store.localPath(key)}')`)).getRows()[0][0]);
        for (const op of ['inserts', 'updates', 'deletes'] as const) {
          expect({ op, rows: got[op].rows, key: got[op].key }).toEqual({ op, rows: 0, key: `athena/${op}.parquet` });
          expect(got[op].bytes).toBe((await store.get(got[op].key))!.body.length);
          expect(await count(got[op].key)).toBe(0);
          // The columns and types DuckDB's empty change set has: partners read either the same way.
          expect(await described(got[op].key)).toEqual(await described(want[op].key));
        }
        expect(await described(got.deletes.key)).toEqual(['id INTEGER']);
        // The row reader (API destinations) finds no rows to send.
        const batches: unknown[] = [];
        for await (const b of athena.rows([got.updates.key], { batchRows: 10, orderBy: ['id'] })) batches.push(b);
        expect(batches).toEqual([]);

        // Delivered as such: the three empty files, changes.json saying 0 rows each, the manifest last.
        const inbox = join(dir, 'inbox');
        const push = (ref: typeof cur) =>
          deliverDestinations(ref, {
            store,
            clock: fixedClock('2024-01-15T07:00:00Z'),
            destinations: [{ destination: localFolderDestination('inbox', inbox), mode: 'mirror', primaryKey: ['id'], takes: 'files' }],
            changes: athena,
          });
        // The first sync (every row an insert, no updates or deletes) makes r1 the base of the next.
        expect((await push(base))[0]).toMatchObject({ status: 'delivered' });
        const [record] = await push(cur);
        expect(record).toMatchObject({
          status: 'delivered',
          rowsSent: 0,
          units: ['changes/inserts.parquet', 'changes/updates.parquet', 'changes/deletes.parquet', 'changes.json', 'manifest.json'],
        });
        const folder = join(inbox, 'daily', 'slot=20240115T060000Z', 'run=r2');
        const changes = JSON.parse(readFileSync(join(folder, 'changes.json'), 'utf8'));
        expect(changes.files.map((f: { op: string; rows: number }) => [f.op, f.rows])).toEqual([
          ['insert', 0],
          ['update', 0],
          ['delete', 0],
        ]);
        expect(Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${join(folder, 'changes', 'inserts.parquet')}')`)).getRows()[0][0])).toBe(0);
      } finally {
        c.closeSync();
        db.closeSync();
        await duck.close();
        stub.restore();
        await fake.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('refuses a primary key that is not unique in the drop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dropkit-athena-diff-'));
    const store = new LocalStore(dir);
    const fake = await FakeAthena.create(store, 'drops');
    const stub = fake.install(AthenaClient as unknown as AthenaClient);
    try {
      const cur = await publishDrop(store, 'r2', `SELECT * FROM (VALUES (1, 'a'), (1, 'b')) t(id, name)`);
      const athena = new AthenaChangeEngine({
        workGroup: 'wg',
        database: 'dk_staging',
        store,
        bucket: 'drops',
        client: new AthenaClient({}),
        sleep: async () => undefined,
      });
      await expect(
        athena.diff({ base: null, current: parquetKeys(cur.manifestKey), primaryKey: ['id'], columns: ['id', 'name'], outPrefix: 'o/' }),
      ).rejects.toThrow(/primary key \(id\) is not unique in the drop: 1 key\(s\) occur more than once/);
    } finally {
      stub.restore();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
