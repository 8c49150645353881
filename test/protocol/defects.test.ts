import { LocalStore } from '../../lib/adapters/local/local-store';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LatestPointer } from '../../lib/core/manifest';
import type { RunRecord } from '../../lib/core/run-record';
import { exitCodeForOutcomes } from '../../lib/cli/run-output';
import { localContext } from '../../lib/cli/local-context';
import { backfill } from '../../lib/runner/backfill';
import { runSlot, RunOutcome } from '../../lib/runner/run-slot';
import { loadProject } from '../../lib/project/load-project';
import { FaultyStore } from '../helpers/faulty-store';
import { listKeys, readJson } from '../helpers/local-run';
import { dropsOf, leftoverProblems, outboxEvents, settledProblems, storeProblems } from '../helpers/protocol-audit';
import { baseProject, BaseProject, depsIn, localStoreOf, NOW, plainFeed, repairIn, runIn, SLOT_14, SLOT_16, within } from '../helpers/protocol-fixture';
import { dailyFeed } from '../helpers/temp-project';

const VARYING_SQL = 'SELECT random() AS r, range AS i FROM range(1000)\n';
const RECORDS_16 = '_runs/daily/slot=20240116T060000Z/';

const delivered = (events: ReturnType<typeof outboxEvents>) => events.filter((e) => e.type === 'drop.delivered');

/** A process id that was running a moment ago and is not any more. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

describe('the defects of issue 7, each as it was reproduced', () => {
  let events: BaseProject;
  let varying: BaseProject;
  beforeAll(async () => {
    events = await baseProject();
    varying = await baseProject({ feed: plainFeed(1000), sql: VARYING_SQL, deliverSlot14: false });
  });
  afterAll(() => {
    events.cleanup();
    varying.cleanup();
  });

  it('defect 1: two reruns of the same slot at once never publish a manifest that does not match its files (tried six times with a varying query)', async () => {
    const dir = varying.copy();
    const local = localStoreOf(dir);
    for (let pair = 1; pair <= 6; pair++) {
      const both = await within(20_000, `pair ${pair}`, Promise.all([runIn(dir, { rerun: true }), runIn(dir, { rerun: true })]));
      expect(both.map((o) => o.status).sort()).toEqual(expect.arrayContaining(['delivered']));
      expect(both.filter((o) => o.status === 'delivered')).toHaveLength(1);
      expect(both.filter((o) => o.status !== 'delivered').map((o) => o.status)).toEqual([expect.stringMatching(/^(busy|already-delivered)$/)]);
    }
    // Six revisions, each manifest's bytes and SHA-256 those of the files beside it.
    expect((await dropsOf(local)).map((d) => d.manifest?.revision).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await storeProblems(local)).toEqual([]);
  });

  it('defect 2: a pointer that cannot be written after the manifest is a delivered run (exit 0, pending), not "nothing was published" with a run.failed event', async () => {
    const dir = events.copy();
    const local = localStoreOf(dir);
    const outcome = await runIn(dir, { store: (s) => new FaultyStore(s, { at: 0, count: Infinity, op: 'put', key: /latest\.json$/ }) });
    expect(outcome).toMatchObject({ status: 'delivered', manifestKey: expect.stringMatching(/slot=20240116T060000Z\/run=.*\/manifest\.json$/) });
    expect(outcome.pending?.join('\n')).toMatch(/move latest\.json: injected fault/);
    expect(exitCodeForOutcomes([outcome])).toBe(0);
    expect(outboxEvents(local).filter((e) => e.type === 'run.failed')).toEqual([]);
    expect(delivered(outboxEvents(local)).map((e) => e.id)).toEqual([events.slot14RunId, outcome.runId]); // its consumers were told
    expect((await readJson<LatestPointer>(local, 'daily/latest.json')).runId).toBe(events.slot14RunId); // still the old drop, complete

    // The next run finds it delivered and moves the pointer; nobody is told twice.
    const next = await runIn(dir);
    expect(next).toMatchObject({ status: 'already-delivered', runId: outcome.runId });
    expect((await readJson<LatestPointer>(local, 'daily/latest.json')).runId).toBe(outcome.runId);
    expect(await storeProblems(local)).toEqual([]);
    expect(await settledProblems(local, { gone: [events.slot14RunId] })).toEqual([]);
  });

  it('defect 3: after a crash between the manifest and the pointer, the next run sends the delivered notice once and records the run delivered', async () => {
    for (const recover of ['run', 'repair'] as const) {
      const dir = events.copy();
      const local = localStoreOf(dir);
      // The store is gone from the pointer write on: nothing after the manifest happens, as if the process died.
      await runIn(dir, { store: (s) => new FaultyStore(s, { at: 0, op: 'put', key: /latest\.json$/, mode: 'crash' }) });
      const [manifest] = (await listKeys(local, 'daily/slot=20240116T060000Z/')).filter((k) => k.endsWith('manifest.json'));
      expect(manifest).toBeDefined();
      const runId = /run=([^/]+)\//.exec(manifest)![1];
      expect(await readJson<RunRecord>(local, `${RECORDS_16}${runId}.json`)).toMatchObject({ status: 'running' });
      expect(delivered(outboxEvents(local)).filter((e) => e.id === runId)).toEqual([]);

      if (recover === 'run') expect(await runIn(dir, { deadPids: [process.pid] })).toMatchObject({ status: 'already-delivered', runId });
      else
        expect(await repairIn(dir, { deadPids: [process.pid] })).toEqual(
          expect.arrayContaining([expect.objectContaining({ runId, action: 'rolled-forward', notice: 'sent' })]),
        );
      expect(delivered(outboxEvents(local)).filter((e) => e.id === runId)).toHaveLength(1);
      expect(await readJson<RunRecord>(local, `${RECORDS_16}${runId}.json`)).toMatchObject({ status: 'delivered', manifest, noticeSent: true, pending: [] });
      expect((await readJson<LatestPointer>(local, 'daily/latest.json')).runId).toBe(runId);
      // A further run changes nothing and tells no one again.
      await runIn(dir);
      expect(delivered(outboxEvents(local)).filter((e) => e.id === runId)).toHaveLength(1);
      expect(await settledProblems(local, { gone: [events.slot14RunId], deadPids: [process.pid] })).toEqual([]);
    }
  });

  it('defect 4: a failure between moving the data files and writing the manifest leaves no data files without a manifest, and a crash there is cleaned by the next run', async () => {
    // Refused manifest write: the attempt rolls back its moved files itself.
    const refused = events.copy();
    const r = await runIn(refused, { store: (s) => new FaultyStore(s, { at: 0, op: 'put', key: /manifest\.json$/ }) });
    expect(r).toMatchObject({ status: 'failed', error: { step: 'publish' } });
    expect(await listKeys(localStoreOf(refused), 'daily/slot=20240116T060000Z/')).toEqual([]);

    // A crash at the manifest write of a rerun: its files stay until the next run of the slot, which is not a rerun.
    const crashed = events.copy();
    const local = localStoreOf(crashed);
    expect((await runIn(crashed)).status).toBe('delivered');
    await runIn(crashed, { rerun: true, store: (s) => new FaultyStore(s, { at: 0, op: 'put', key: /manifest\.json$/, mode: 'crash' }) });
    const orphans = (await dropsOf(local)).filter((d) => !d.manifest);
    expect(orphans.map((d) => d.files.sort())).toEqual([['part-00000.csv', 'part-00000.parquet']]);
    expect((await runIn(crashed, { deadPids: [process.pid] })).status).toBe('already-delivered');
    expect((await dropsOf(local)).filter((d) => !d.manifest)).toEqual([]);
    expect(await storeProblems(local)).toEqual([]);
    expect(await settledProblems(local, { gone: [events.slot14RunId], deadPids: [process.pid] })).toEqual([]);

    // The reported trigger: an SLA too long to have a deadline is now refused when the feed loads
    // (dropkit check and run alike), before anything is written.
    const hugeSla = events.copy();
    const before = await listKeys(localStoreOf(hugeSla));
    writeFileSync(join(hugeSla, 'feeds/daily.yaml'), dailyFeed('daily').replace('deliverWithin: PT2H', 'deliverWithin: P99999999D'));
    await expect(runIn(hugeSla)).rejects.toThrow(/sla\.deliverWithin: must be at most 366 days/);
    expect(await listKeys(new LocalStore(join(hugeSla, 'out')))).toEqual(before);
  });

  it("defect 5: the loser of a same-slot race does not overwrite the winner's run record, and a losing backfill goes on", async () => {
    const dir = varying.copy();
    const local = localStoreOf(dir);
    // Two backfills of the same three days at once: every slot is fought over.
    const range = { from: new Date('2024-01-14T06:00:00Z'), to: new Date(SLOT_16) };
    const run = () => {
      const { deps } = depsIn(dir);
      return backfill({ feed: loadProject(dir).feeds[0], partners: [null], ...range }, deps);
    };
    const [a, b] = await within(30_000, 'two backfills', Promise.all([run(), run()]));
    for (const summary of [a, b]) expect(summary).toMatchObject({ total: 3, failed: 0, notRun: 0 });
    expect(a.delivered + b.delivered).toBe(3);
    // Each slot: one delivered revision whose record is the winner's and says so.
    const winners = [...a.outcomes, ...b.outcomes].filter((o) => o.status === 'delivered');
    expect(winners.map((o) => o.slot).sort()).toEqual(['20240114T060000Z', '20240115T060000Z', '20240116T060000Z']);
    for (const w of winners) {
      const record = await readJson<RunRecord>(local, `_runs/daily/slot=${w.slot}/${w.runId}.json`);
      expect(record).toMatchObject({ status: 'delivered', step: 'notify', error: null, manifest: w.manifestKey, noticeSent: true });
    }
    expect((await listKeys(local, '_runs/')).length).toBe(3);
    expect(await storeProblems(local)).toEqual([]);
    expect(await settledProblems(local)).toEqual([]);
  });

  it('defect 6: retention never deletes the drop just delivered: a backfill of a slot older than retention is refused up front, the newest slot is kept whatever its age', async () => {
    const dir = events.copy(); // retention 1 day; slot 14 delivered
    const local = localStoreOf(dir);
    const newest = await runIn(dir, { slot: SLOT_16 });
    expect(newest.status).toBe('delivered');
    expect(await listKeys(local, 'daily/slot=20240114T060000Z/')).toEqual([]); // expired by retention, as it should be

    // Slot 15 is older than a day and older than latest.json: delivering it would have it deleted at once.
    const before = await listKeys(local);
    await expect(runIn(dir, { slot: '2024-01-15T06:00:00Z' })).rejects.toThrow(/older than its retention \(retention\.days: 1\).*raise retention\.days/);
    expect(await listKeys(local)).toEqual(before);
    expect(delivered(outboxEvents(local)).map((e) => e.id)).toEqual([events.slot14RunId, newest.runId]);

    // Three days on, slot 16 is past retention but still the latest: a rerun of it delivers and keeps it.
    const rerun = await runIn(dir, { slot: SLOT_16, rerun: true, now: '2024-01-19T07:00:00Z' });
    expect(rerun.status).toBe('delivered');
    expect(await local.exists(rerun.manifestKey!)).toBe(true);
    expect(await storeProblems(local)).toEqual([]);
  });

  it("defect 9: leftovers do not pile up: a failed run removes its staging and scratch, and the next run removes a dead engine's folder and old temp files", async () => {
    const dir = events.copy();
    const project = loadProject(dir);
    const out = project.outputDir;
    // A failed run (its query fails at stage) leaves nothing behind.
    writeFileSync(join(dir, 'feeds/daily.sql'), 'SELECT * FROM no_such_table');
    const ctx = () => localContext(loadProject(dir), { console: false, now: NOW });
    const failed: RunOutcome = await runSlot({ feed: 'daily', partner: null, slot: new Date(SLOT_16) }, ctx().deps);
    expect(failed).toMatchObject({ status: 'failed', error: { step: 'stage' } });
    expect(await leftoverProblems(localStoreOf(dir))).toEqual([]);

    // What dead runs left: an engine folder of a dead process, temp files an hour old in staging and the feed folder.
    const pid = await deadPid();
    const scratch = join(out, '_work', `duckdb-${pid}-abc123`);
    mkdirSync(join(scratch, 'spill'), { recursive: true });
    writeFileSync(join(scratch, 'engine.duckdb'), randomBytes(1024));
    const temps = [join(out, '_staging', 'x', '.tmp-0123456789abcdef'), join(out, 'daily', '.tmp-fedcba9876543210')];
    const hourAgo = new Date(Date.now() - 60 * 60_000);
    for (const t of temps) {
      mkdirSync(join(t, '..'), { recursive: true });
      writeFileSync(t, 'half');
      utimesSync(t, hourAgo, hourAgo);
    }
    // The next run of a slot already delivered opens no engine, and still removes them.
    const next = await runSlot({ feed: 'daily', partner: null, slot: new Date(SLOT_14) }, ctx().deps);
    expect(next.status).toBe('already-delivered');
    expect(existsSync(scratch)).toBe(false);
    expect(temps.filter((t) => existsSync(t))).toEqual([]);
    expect(await leftoverProblems(localStoreOf(dir))).toEqual([]);
  });
});
