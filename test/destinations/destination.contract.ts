import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { DuckDbDestinationEngine } from '../../lib/adapters/duckdb/duckdb-destination';
import { deliverDestinations, type DestinationPlan } from '../../lib/core/destinations/deliver';
import { fileDestination } from '../../lib/core/destinations/file-delivery';
import type { Destination, FileSink, SyncMode } from '../../lib/core/ports/destination';
import { fixedClock } from '../../lib/core/ports/clock';
import { publishDrop } from './drops';

/**
 * One contract for every Destination adapter (local folder, loopback HTTP API, OpenSSH SFTP, S3
 * on moto). A fixture builds the adapter against its real peer and says what the peer holds.
 */
export interface DestinationFixture {
  readonly takes: 'files' | 'rows';
  /** A destination to the peer. `failOnUnit` (1-based): the peer, or the way to it, fails that file or batch once. */
  destination(name: string, options: { failOnUnit?: number; primaryKey?: string[] }): Promise<Destination>;
  /** What the peer holds: files (path below the destination root → bytes), or rows (key → row). */
  holds(): Promise<Map<string, unknown>>;
  /** Units the peer accepted, in order (file paths, or batch idempotency keys); a unit twice is a resend. */
  arrivals(): string[];
  close(): Promise<void>;
}

/** Wraps a sink: records what arrives and fails the nth put once, as a dropped connection would. */
export function observedSink(sink: FileSink, log: string[], failOnUnit?: number): FileSink {
  let n = 0;
  return {
    target: sink.target,
    size: (p) => sink.size(p),
    close: () => sink.close(),
    put: async (path: string, body: () => Promise<Readable>, bytes: number) => {
      n++;
      if (n === failOnUnit) throw new Error(`connection reset while sending ${path}`);
      await sink.put(path, body, bytes);
      log.push(path);
    },
  };
}

export function observedFileDestination(name: string, sink: FileSink, log: string[], failOnUnit?: number): Destination {
  return fileDestination(name, observedSink(sink, log, failOnUnit));
}

const FIRST = `SELECT i AS id, 'name-' || i AS name, i * 2 AS score FROM range(1, 101) t(i)`;
// 10 gone (1..10), 10 new (101..110), one changed (50).
const SECOND = `SELECT i AS id, 'name-' || i AS name, CASE WHEN i = 50 THEN -1 ELSE i * 2 END AS score FROM range(11, 111) t(i)`;
const DIR1 = 'daily/slot=20240115T060000Z/run=r1/';
const DIR2 = 'daily/slot=20240116T060000Z/run=r2/';

export function destinationContract(adapter: string, makeFixture: () => Promise<DestinationFixture>): void {
  describe(`Destination contract: ${adapter}`, () => {
    let dir: string;
    let store: LocalStore;
    let engine: DuckDbDestinationEngine;
    let fixture: DestinationFixture;
    const clock = fixedClock('2024-01-15T07:10:00Z');

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dropkit-dest-'));
      store = new LocalStore(join(dir, 'store'));
      engine = await DuckDbDestinationEngine.open({ store, workDir: dir, threads: 1 });
      fixture = await makeFixture();
    });
    afterEach(async () => {
      await fixture.close();
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    });

    const plan = (destination: Destination, mode: SyncMode, primaryKey?: string[]): DestinationPlan => ({
      destination,
      mode,
      primaryKey,
      takes: fixture.takes,
    });
    const deliver = (ref: Awaited<ReturnType<typeof publishDrop>>, p: DestinationPlan) =>
      deliverDestinations(ref, { store, clock, destinations: [p], rows: engine, changes: engine });

    it('delivers a whole drop and records what it sent', async () => {
      const ref = await publishDrop(store, 'r1', FIRST);
      const [record] = await deliver(ref, plan(await fixture.destination('partner', {}), 'full'));
      expect(record).toMatchObject({ destination: 'partner', status: 'delivered', errors: [] });
      const holds = await fixture.holds();
      if (fixture.takes === 'files') {
        const manifest = JSON.parse((await store.get(ref.manifestKey))!.body.toString('utf8'));
        for (const f of manifest.files) expect((holds.get(DIR1 + f.path) as Buffer).equals((await store.get(DIR1 + f.path))!.body)).toBe(true);
        // Their manifest: ours, plus what they received (delivery.delivered).
        const theirs = JSON.parse((holds.get(DIR1 + 'manifest.json') as Buffer).toString('utf8'));
        expect({ ...theirs, delivery: undefined }).toEqual(manifest);
        expect(theirs.delivery.delivered.files.map((f: { path: string }) => f.path)).toEqual(manifest.files.map((f: { path: string }) => f.path));
        expect(record.files).toBe(3);
        // Manifest last: a reader who trusts manifests never sees a partial drop.
        expect(fixture.arrivals().at(-1)).toBe(DIR1 + 'manifest.json');
      } else {
        expect(holds.size).toBe(100);
        expect(record.rowsSent).toBe(100);
      }
    });

    it('is idempotent per run: a second delivery sends nothing', async () => {
      const ref = await publishDrop(store, 'r1', FIRST);
      const first = await deliver(ref, plan(await fixture.destination('partner', {}), 'full'));
      const sent = fixture.arrivals().length;
      const again = await deliver(ref, plan(await fixture.destination('partner', {}), 'full'));
      expect(again).toEqual(first);
      expect(fixture.arrivals()).toHaveLength(sent);
    });

    it('records a failure, keeps the drop delivered, and resumes without resending what arrived', async () => {
      const ref = await publishDrop(store, 'r1', FIRST);
      const [failed] = await deliver(ref, plan(await fixture.destination('partner', { failOnUnit: 2 }), 'full'));
      expect(failed.status).toBe('failed');
      expect(failed.errors[0].message).toMatch(/./);
      expect(await store.exists(ref.manifestKey)).toBe(true);
      const before = fixture.arrivals().length;
      expect(before).toBeGreaterThanOrEqual(1);
      const [resumed] = await deliver(ref, plan(await fixture.destination('partner', {}), 'full'));
      expect(resumed.status).toBe('delivered');
      const arrivals = fixture.arrivals();
      expect(new Set(arrivals).size).toBe(arrivals.length);
      if (fixture.takes === 'rows') expect((await fixture.holds()).size).toBe(100);
      else expect(arrivals.at(-1)).toBe(DIR1 + 'manifest.json');
    });

    it('with a primary key, sends only what changed since the drop it last received (mirror)', async () => {
      const r1 = await publishDrop(store, 'r1', FIRST);
      const [first] = await deliver(r1, plan(await fixture.destination('crm', { primaryKey: ['id'] }), 'mirror', ['id']));
      expect(first).toMatchObject({ status: 'delivered', base: null });
      const r2 = await publishDrop(store, 'r2', SECOND, '20240116T060000Z');
      const sentBefore = fixture.arrivals().length;
      const [second] = await deliver(r2, plan(await fixture.destination('crm', { primaryKey: ['id'] }), 'mirror', ['id']));
      expect(second).toMatchObject({ status: 'delivered', base: r1.manifestKey });
      const holds = await fixture.holds();
      if (fixture.takes === 'rows') {
        expect(second.rowsSent).toBe(21);
        expect([...holds.keys()].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 11));
        expect(holds.get('50')).toMatchObject({ score: -1 });
      } else {
        const changes = JSON.parse((holds.get(DIR2 + 'changes.json') as Buffer).toString('utf8'));
        expect(changes.files.map((f: { op: string; rows: number }) => [f.op, f.rows])).toEqual([
          ['insert', 10],
          ['update', 1],
          ['delete', 10],
        ]);
        expect(fixture.arrivals().slice(sentBefore)).toEqual([
          DIR2 + 'changes/inserts.parquet',
          DIR2 + 'changes/updates.parquet',
          DIR2 + 'changes/deletes.parquet',
          DIR2 + 'changes.json',
          DIR2 + 'manifest.json',
        ]);
      }
    });

    it('resumes a failed diff sync against the same base, sending only what had not arrived', async () => {
      const r1 = await publishDrop(store, 'r1', FIRST);
      await deliver(r1, plan(await fixture.destination('crm', { primaryKey: ['id'] }), 'mirror', ['id']));
      const r2 = await publishDrop(store, 'r2', SECOND, '20240116T060000Z');
      const sentBefore = fixture.arrivals().length;
      const [failed] = await deliver(r2, plan(await fixture.destination('crm', { primaryKey: ['id'], failOnUnit: 2 }), 'mirror', ['id']));
      expect(failed).toMatchObject({ status: 'failed', base: r1.manifestKey });
      const [resumed] = await deliver(r2, plan(await fixture.destination('crm', { primaryKey: ['id'] }), 'mirror', ['id']));
      expect(resumed).toMatchObject({ status: 'delivered', base: r1.manifestKey });
      const sent = fixture.arrivals().slice(sentBefore);
      expect(new Set(sent).size).toBe(sent.length);
      if (fixture.takes === 'rows') {
        expect(resumed.rowsSent).toBe(21);
        expect((await fixture.holds()).size).toBe(100);
      } else expect(sent).toHaveLength(5);
    });
  });
}
