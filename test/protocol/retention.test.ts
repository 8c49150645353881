import type { RunRecord } from '../../lib/core/run-record';
import { backfill } from '../../lib/runner/backfill';
import { loadProject } from '../../lib/project/load-project';
import { FaultyStore } from '../helpers/faulty-store';
import { listKeys, readJson } from '../helpers/local-run';
import { dropsOf, outboxEvents, settledProblems, storeProblems } from '../helpers/protocol-audit';
import { baseProject, BaseProject, depsIn, localStoreOf, NOW, runIn, SLOT_14, SLOT_16, within } from '../helpers/protocol-fixture';

const SLOT_14_FOLDER = 'daily/slot=20240114T060000Z/';

/** Issue 14 item 4: retention deletes neither a drop just delivered and announced, nor part of a drop, nor a slot in flight. */
describe('retention keeps every announced drop whole', () => {
  let events: BaseProject;
  beforeAll(async () => {
    events = await baseProject(); // retention 1 day; slot 14 delivered on 2024-01-14
  });
  afterAll(() => events.cleanup());

  it('a backfill with slots past retention is refused before its first slot runs, naming them and the fix; one inside it delivers and keeps every slot', async () => {
    const dir = events.copy();
    const local = localStoreOf(dir);
    const before = await listKeys(local);
    const { deps } = depsIn(dir);
    const feed = loadProject(dir).feeds[0];
    await expect(backfill({ feed, partners: [null], from: new Date('2024-01-10T00:00:00Z'), to: new Date(NOW) }, deps)).rejects.toThrow(
      /6 slot\(s\) of daily in this backfill \(2024-01-10T06:00:00.000Z … 2024-01-15T06:00:00.000Z\) are older than its retention \(retention\.days: 1.*nothing was run.*Raise retention\.days in .*daily\.yaml.*--from 2024-01-15T07:00:00.000Z/,
    );
    expect(await listKeys(local)).toEqual(before);

    const summary = await backfill({ feed, partners: [null], from: new Date('2024-01-15T07:00:00Z'), to: new Date(NOW) }, deps);
    expect(summary).toMatchObject({ total: 1, delivered: 1, failed: 0 });
    const announced = outboxEvents(local).filter((e) => e.type === 'drop.delivered');
    // Every drop announced is still there, its manifest matching its files.
    for (const e of announced.filter((e) => e.id !== events.slot14RunId)) expect(await local.exists(e.manifest!.key)).toBe(true);
    expect(await storeProblems(local)).toEqual([]);
  });

  it('a drop delivered within the retention window stays, whatever its slot: a rerun of an old slot is not deleted by the next slot; a day later it goes whole', async () => {
    const dir = events.copy();
    const local = localStoreOf(dir);
    const rerun = await runIn(dir, { slot: SLOT_14, rerun: true });
    expect(rerun.status).toBe('delivered');
    const newest = await runIn(dir, { slot: SLOT_16 });
    expect(newest).toMatchObject({ status: 'delivered', pending: [] });
    // Announced with links seconds ago: still there, both revisions whole.
    expect(await local.exists(rerun.manifestKey!)).toBe(true);
    expect(
      (await dropsOf(local))
        .filter((d) => d.slot === '20240114T060000Z')
        .map((d) => d.manifest?.revision)
        .sort(),
    ).toEqual([1, 2]);
    expect(await storeProblems(local)).toEqual([]);

    // Over a day after that delivery, the next slot's retention removes slot 14 whole; its run records stay.
    const later = await runIn(dir, { slot: SLOT_16, rerun: true, now: '2024-01-17T07:30:00Z' });
    expect(later.status).toBe('delivered');
    expect(await listKeys(local, SLOT_14_FOLDER)).toEqual([]);
    expect(await listKeys(local, '_leases/daily/slot=20240114T060000Z')).toEqual([]);
    const records = await listKeys(local, '_runs/daily/slot=20240114T060000Z/');
    expect(records).toHaveLength(2);
    for (const key of records) expect((await readJson<RunRecord>(local, key)).status).toBe('delivered');
    expect(await storeProblems(local)).toEqual([]);
    expect(await settledProblems(local, { gone: [events.slot14RunId, rerun.runId] })).toEqual([]);
  });

  it('a slot whose run is in flight is not deleted under it: a rerun of an old slot that holds its lease while a new slot delivers ends delivered and whole', async () => {
    const dir = events.copy();
    const local = localStoreOf(dir);
    let newestDone!: () => void;
    const newestFinished = new Promise<void>((r) => (newestDone = r));
    const old = runIn(dir, { slot: SLOT_14, rerun: true, beforeEngine: () => newestFinished });
    // The old slot's rerun holds its lease (it waits before its engine); then the new slot delivers and applies retention.
    await new Promise((r) => setTimeout(r, 200));
    const newest = await runIn(dir, { slot: SLOT_16 });
    newestDone();
    const oldOutcome = await within(20_000, 'the old slot rerun', old);
    expect(newest.status).toBe('delivered');
    expect(oldOutcome.status).toBe('delivered');
    expect(await local.exists(oldOutcome.manifestKey!)).toBe(true);
    expect(await storeProblems(local)).toEqual([]);
    expect(await settledProblems(local)).toEqual([]);
  });

  it('retention deletes the manifests of a slot before its files, so a reader never meets a manifest whose files are gone', async () => {
    const dir = events.copy();
    let faulty!: FaultyStore;
    // Deleting the files of slot 14 fails (both tries): whatever is left of the slot must not be a torn drop.
    const outcome = await runIn(dir, {
      store: (l) => (faulty = new FaultyStore(l, { at: 0, count: 2, op: 'deletePrefix', key: /^daily\/slot=20240114T060000Z\/$/ })),
    });
    expect(outcome.status).toBe('delivered');
    const ops = faulty.log.filter((o) => o.key.startsWith(SLOT_14_FOLDER)).map((o) => `${o.op} ${o.key.endsWith('manifest.json') ? 'manifest' : o.key}`);
    expect(ops).toEqual(['delete manifest', `deletePrefix ${SLOT_14_FOLDER}`, `deletePrefix ${SLOT_14_FOLDER}`]);
    const local = localStoreOf(dir);
    expect((await dropsOf(local)).filter((d) => d.slot === '20240114T060000Z' && d.manifest)).toEqual([]);
    // Left pending for the next run, and no lease is left held by the retention that failed.
    expect(outcome.pending).toEqual([expect.stringMatching(/^apply retention: injected fault/)]);
    expect(await listKeys(local, '_leases/daily/slot=20240114T060000Z')).toEqual(['_leases/daily/slot=20240114T060000Z.json']);
    expect((await readJson(local, '_leases/daily/slot=20240114T060000Z.json')).released).toBe(true);
  });
});
