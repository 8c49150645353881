import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { manifestProblems } from '../../lib/core/manifest-schema';
import type { LatestPointer, Manifest } from '../../lib/core/manifest';
import type { RunRecord } from '../../lib/core/run-record';
import type { ObjectStore } from '../../lib/core/ports/object-store';
import { listKeys, readJson, runFeed } from '../helpers/local-run';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

const SLOT_15 = '2024-01-15T06:00:00Z'; // data interval 2024-01-14T06:00Z → 2024-01-15T06:00Z: ids 2, 3, 4
const SLOT_16 = '2024-01-16T06:00:00Z'; // 2024-01-15T06:00Z → 2024-01-16T06:00Z: ids 5, 6, 7

describe('runSlot (local pipeline)', () => {
  let project: TempProject;
  beforeEach(async () => {
    project = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => project.cleanup());

  it('delivers the slot: files under the versioned prefix, a manifest that validates, and latest.json', async () => {
    const { outcome, store } = await runFeed(project.dir, 'daily', { slot: SLOT_15, now: '2024-01-15T07:00:00Z' });
    expect(outcome.status).toBe('delivered');
    const prefix = `daily/slot=20240115T060000Z/run=${outcome.runId}/`;
    expect(outcome.manifestKey).toBe(`${prefix}manifest.json`);
    expect(await listKeys(store, 'daily/')).toEqual(['daily/latest.json', `${prefix}manifest.json`, `${prefix}part-00000.csv`, `${prefix}part-00000.parquet`]);

    const manifest = await readJson<Manifest>(store, outcome.manifestKey!);
    expect(manifestProblems(manifest)).toEqual([]);
    // The slot is free again once the run is done.
    expect(await readJson(store, '_leases/daily/slot=20240115T060000Z.json')).toMatchObject({ runId: outcome.runId, released: true });
    expect(manifest).toMatchObject({
      feed: 'daily',
      partner: null,
      revision: 1,
      supersedes: null,
      status: 'DELIVERED',
      rowCount: 3,
      slot: {
        id: '20240115T060000Z',
        scheduledFor: '2024-01-15T06:00:00.000Z',
        dataInterval: { start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' },
        timezone: 'UTC',
      },
      sla: { expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T07:00:00.000Z', status: 'MET', latenessSeconds: 0 },
      query: { engine: 'duckdb', parameters: { window_start: '2024-01-14T06:00:00.000Z', window_end: '2024-01-15T06:00:00.000Z' } },
      validation: { status: 'pass' },
    });
    expect(manifest.schema.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['id:INTEGER', 'label:VARCHAR', 'amount:DECIMAL(10,2)', 'happened_at:TIMESTAMP']);
    const csv = readFileSync(store.localPath(prefix + 'part-00000.csv'), 'utf8');
    expect(csv).toBe('id,label,amount,happened_at\n2,b,2.20,2024-01-14T08:00:00Z\n3,c,3.30,2024-01-14T12:00:00Z\n4,d,4.40,2024-01-14T23:59:59Z\n');
    for (const f of manifest.files) {
      const bytes = readFileSync(store.localPath(prefix + f.path));
      expect({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({ bytes: f.bytes, sha256: f.sha256 });
    }
    const latest = await readJson<LatestPointer>(store, 'daily/latest.json');
    expect(latest).toMatchObject({ runId: outcome.runId, slot: '20240115T060000Z', manifest: `slot=20240115T060000Z/run=${outcome.runId}/manifest.json` });
    const record = await readJson<RunRecord>(store, `_runs/daily/slot=20240115T060000Z/${outcome.runId}.json`);
    expect(record).toMatchObject({ status: 'delivered', step: 'notify', error: null, rowCount: 3 });
    expect(await listKeys(store, '_staging/')).toEqual([]);
    expect(readdirSync(join(project.dir, 'out', '_work'))).toEqual([]); // no scratch files left behind
  });

  it('records the SLA as LATE with the lateness when delivered after the deadline', async () => {
    const { outcome } = await runFeed(project.dir, 'daily', { slot: SLOT_15, now: '2024-01-15T08:30:05Z' });
    expect(outcome.manifest?.sla).toMatchObject({ status: 'LATE', latenessSeconds: 1805 });
  });

  it('does not deliver the same slot twice', async () => {
    const first = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    const before = await listKeys(first.store);
    const second = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    expect(second.outcome).toMatchObject({ status: 'already-delivered', runId: first.outcome.runId, manifestKey: first.outcome.manifestKey });
    expect(await listKeys(second.store)).toEqual(before);
  });

  it('delivers a rerun as a new revision that supersedes the earlier one and moves latest.json', async () => {
    const first = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    const second = await runFeed(project.dir, 'daily', { slot: SLOT_15, rerun: true });
    expect(second.outcome).toMatchObject({ status: 'delivered', revision: 2 });
    expect(second.outcome.runId).not.toBe(first.outcome.runId);
    expect(second.outcome.manifest?.supersedes).toBe(first.outcome.runId);
    expect((await readJson<LatestPointer>(second.store, 'daily/latest.json')).runId).toBe(second.outcome.runId);
    expect(await second.store.exists(first.outcome.manifestKey!)).toBe(true); // the superseded drop stays, immutable
  });

  it('a run that fails validation publishes nothing and leaves the previous drop and pointer untouched', async () => {
    const good = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    const latestBefore = readFileSync(good.store.localPath('daily/latest.json'));
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect(true));
    const bad = await runFeed(project.dir, 'daily', { slot: SLOT_16 });
    expect(bad.outcome.status).toBe('validation-failed');
    expect(bad.outcome.error).toMatchObject({ step: 'validate', name: 'ValidationFailedError' });
    expect(await listKeys(bad.store, 'daily/slot=20240116T060000Z/')).toEqual([]);
    expect(readFileSync(bad.store.localPath('daily/latest.json'))).toEqual(latestBefore);
    expect(await bad.store.exists(good.outcome.manifestKey!)).toBe(true);
    const record = await readJson<RunRecord>(bad.store, `_runs/daily/slot=20240116T060000Z/${bad.outcome.runId}.json`);
    expect(record).toMatchObject({ status: 'validation-failed', step: 'validate', validation: { status: 'fail' } });
    expect(record.validation!.checks.find((c) => c.name === 'unique(id)')).toMatchObject({ outcome: 'fail', observed: 1 });
    const outbox = readFileSync(join(project.dir, 'out/_outbox/events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(outbox.map((e) => e.type)).toEqual(['drop.delivered', 'validation.failed']);
    expect(outbox[1].validation.failed).toEqual([expect.objectContaining({ name: 'unique(id)', outcome: 'fail' })]);
    expect(await listKeys(bad.store, '_staging/')).toEqual([]);
  });

  it('a run whose query fails is recorded as failed at stage and publishes nothing', async () => {
    project.write('feeds/daily.sql', 'SELECT id FROM no_such_table');
    const { outcome, store } = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    expect(outcome).toMatchObject({ status: 'failed', manifestKey: null, error: { step: 'stage', name: 'QueryFailedError' } });
    expect(outcome.error?.message).toMatch(/no_such_table/);
    expect(await listKeys(store, 'daily/')).toEqual([]);
  });

  it('a failure while publishing leaves the previous drop and pointer untouched, and a retry delivers', async () => {
    const good = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    const latestBefore = readFileSync(good.store.localPath('daily/latest.json'));
    const failingManifestWrite = (s: ObjectStore): ObjectStore =>
      Object.assign(Object.create(Object.getPrototypeOf(s)), s, {
        put: (key: string, ...rest: any[]) => (key.endsWith('manifest.json') ? Promise.reject(new Error('disk full')) : (s.put as any).call(s, key, ...rest)),
      });
    const bad = await runFeed(project.dir, 'daily', { slot: SLOT_16, store: failingManifestWrite });
    expect(bad.outcome).toMatchObject({ status: 'failed', error: { step: 'publish', message: 'disk full' } });
    expect(readFileSync(bad.store.localPath('daily/latest.json'))).toEqual(latestBefore);
    expect(await listKeys(bad.store, 'daily/slot=20240116T060000Z/').then((k) => k.filter((x) => x.endsWith('manifest.json')))).toEqual([]);
    const retry = await runFeed(project.dir, 'daily', { slot: SLOT_16 });
    expect(retry.outcome).toMatchObject({ status: 'delivered', runId: bad.outcome.runId }); // the same run id finds its own leftovers
    expect((await readJson<LatestPointer>(retry.store, 'daily/latest.json')).slot).toBe('20240116T060000Z');
  });

  it('a backfill of an older slot does not turn latest.json back', async () => {
    await runFeed(project.dir, 'daily', { slot: SLOT_16 });
    const old = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    expect(old.outcome.status).toBe('delivered');
    expect((await readJson<LatestPointer>(old.store, 'daily/latest.json')).slot).toBe('20240116T060000Z');
  });

  it('repairs latest.json when a run died between its manifest and the pointer', async () => {
    const first = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    await first.store.delete('daily/latest.json');
    const again = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    expect(again.outcome.status).toBe('already-delivered');
    expect((await readJson<LatestPointer>(again.store, 'daily/latest.json')).runId).toBe(first.outcome.runId);
  });

  it('writes Parquet that reads back to the staged rows and types', async () => {
    const { outcome, store } = await runFeed(project.dir, 'daily', { slot: SLOT_16 });
    const path = store.localPath(outcome.manifestKey!.replace('manifest.json', 'part-00000.parquet'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const rows = (
      await c.runAndReadAll(`SELECT id, label, amount::VARCHAR AS amount, happened_at::VARCHAR AS at FROM read_parquet('${path}') ORDER BY id`)
    ).getRowObjectsJson();
    const [meta] = (await c.runAndReadAll(`SELECT compression FROM parquet_metadata('${path}') LIMIT 1`)).getRowObjectsJson();
    c.closeSync();
    db.closeSync();
    expect(rows).toEqual([
      { id: 5, label: 'e', amount: '5.50', at: '2024-01-15 06:00:00' },
      { id: 6, label: 'f', amount: '6.60', at: '2024-01-15 07:00:00' },
      { id: 7, label: 'g', amount: '7.70', at: '2024-01-15 09:00:00' },
    ]);
    expect(meta.compression).toBe('ZSTD');
  });

  it('deletes drops older than the retention after publishing, but never the one latest.json points at', async () => {
    project.write('feeds/daily.yaml', dailyFeed() + 'retention:\n  days: 1\n');
    await runFeed(project.dir, 'daily', { slot: SLOT_15, now: '2024-01-15T07:00:00Z' });
    const second = await runFeed(project.dir, 'daily', { slot: SLOT_16, now: '2024-01-18T00:00:00Z' });
    expect(await listKeys(second.store, 'daily/slot=20240115T060000Z/')).toEqual([]);
    expect(await listKeys(second.store, '_leases/daily/slot=20240115T060000Z')).toEqual([]); // its lease went with it
    expect(await listKeys(second.store, '_leases/daily/slot=20240116T060000Z')).toEqual(['_leases/daily/slot=20240116T060000Z.json']);
    expect(await second.store.exists(second.outcome.manifestKey!)).toBe(true); // older than a day too, but it is the latest
    expect((await readJson<LatestPointer>(second.store, 'daily/latest.json')).slot).toBe('20240116T060000Z');
  });

  it('compares the row count with the previous delivered drop of the feed, found from the store', async () => {
    project.write('feeds/daily.yaml', dailyFeed() + '  - type: row_count_change\n    maxIncreasePercent: 100\n');
    const first = await runFeed(project.dir, 'daily', { slot: '2024-01-14T06:00:00Z' }); // 1 row, nothing to compare with
    expect(first.outcome.validation?.checks.find((c) => c.type === 'row_count_change')).toMatchObject({ outcome: 'pass', observed: null });
    const second = await runFeed(project.dir, 'daily', { slot: SLOT_15 }); // 3 rows: +200%
    expect(second.outcome.status).toBe('validation-failed');
    expect(second.outcome.validation?.checks.find((c) => c.type === 'row_count_change')).toMatchObject({
      outcome: 'fail',
      observed: { previous: 1, current: 3, changePercent: 200, previousRunId: first.outcome.runId },
    });
  });

  it('a backfilled slot compares its row count with the drop before it, not with latest.json', async () => {
    const first = await runFeed(project.dir, 'daily', { slot: '2024-01-14T06:00:00Z' }); // 1 row
    await runFeed(project.dir, 'daily', { slot: SLOT_16 }); // 3 rows, now the latest
    project.write('feeds/daily.yaml', dailyFeed() + '  - type: row_count_change\n    maxIncreasePercent: 100\n');
    const backfilled = await runFeed(project.dir, 'daily', { slot: SLOT_15 }); // 3 rows against the 14th's 1
    expect(backfilled.outcome.validation?.checks.find((c) => c.type === 'row_count_change')).toMatchObject({
      outcome: 'fail',
      observed: { previous: 1, current: 3, previousRunId: first.outcome.runId },
    });
  });
});
