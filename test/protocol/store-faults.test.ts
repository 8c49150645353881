import type { Manifest } from '../../lib/core/manifest';
import type { RunOutcome } from '../../lib/runner/run-slot';
import type { ObjectStore } from '../../lib/core/ports/object-store';
import type { LocalStore } from '../../lib/adapters/local/local-store';
import { Fault, FaultLog, FaultyLocalStore, FaultyStore, WriteLogEntry } from '../helpers/faulty-store';
import { outboxEvents, settledProblems, storeProblems } from '../helpers/protocol-audit';
import { baseProject, BaseProject, localStoreOf, repairIn, runIn, within } from '../helpers/protocol-fixture';
import { listKeys } from '../helpers/local-run';

/**
 * The run of slot 16 is failed at every store write in turn (lease, cleanup, run record, staging,
 * exports, moves, manifest, pointer, retention, record, release), in three ways: the write is
 * refused, the write happens but its reply is lost, or the store is gone from that write on (the
 * process as good as died there). After each: what the store shows, then what the next run or
 * `dropkit repair` makes of it.
 */
type Faulty = ObjectStore & FaultLog;

/**
 * Through the port: the engine sees a plain ObjectStore and stages and exports through it.
 * In place: the engine sees a local folder, as under `dropkit run` (exports renamed in by putFile).
 */
const STORES: [string, (local: LocalStore, fault?: Fault) => Faulty][] = [
  ['through the store port', (local, fault) => new FaultyStore(local, fault)],
  ['in place in a local folder', (local, fault) => new FaultyLocalStore(local.root, fault)],
];

describe.each(STORES)('a run failed at every store write, the engine working %s', (_kind, makeStore) => {
  let base: BaseProject;
  let cleanLog: readonly WriteLogEntry[];

  beforeAll(async () => {
    base = await baseProject();
    let faulty: Faulty | undefined;
    const clean = await runIn(base.copy(), { store: (s) => (faulty = makeStore(s)) });
    expect(clean.status).toBe('delivered');
    cleanLog = faulty!.log;
  });
  afterAll(() => base.cleanup());

  it('the clean run writes through the store port from the lease to its release, manifest before pointer', () => {
    const ops = cleanLog.map((e) => `${e.op} ${e.key.replace(/[0-9a-f]{12}/g, '*')}`);
    expect(ops[0]).toBe('put _leases/daily/slot=20240116T060000Z.json');
    expect(ops[ops.length - 1]).toBe('put _leases/daily/slot=20240116T060000Z.json');
    const manifest = ops.findIndex((o) => o.startsWith('put daily/slot=20240116T060000Z/') && o.endsWith('manifest.json'));
    const moves = ops.map((o, i) => (o.startsWith('move ') ? i : -1)).filter((i) => i >= 0);
    expect(moves.length).toBe(2);
    expect(Math.max(...moves)).toBeLessThan(manifest);
    expect(ops.indexOf('put daily/latest.json')).toBeGreaterThan(manifest);
    expect(ops).toContain('deletePrefix daily/slot=20240114T060000Z/'); // retention of slot 14
    expect(cleanLog.length).toBeGreaterThan(15);
  });

  /** One failed run and its recovery; the broken promises found, each named with the fault. */
  async function faultCase(fault: Fault, recover: 'run' | 'repair'): Promise<string[]> {
    const dir = base.copy();
    const local = localStoreOf(dir);
    let faulty: Faulty | undefined;
    const failed: RunOutcome | Error = await within(
      20_000,
      `run with ${JSON.stringify(fault)}`,
      runIn(dir, { store: (s) => (faulty = makeStore(s, fault)) }),
    ).catch((e: Error) => e);
    const what = `${fault.mode} fault at write ${fault.at} (${faulty?.fired ? `${faulty.fired.op} ${faulty.fired.key}` : 'none fired'})`;
    const problems: string[] = [];
    const crash = fault.mode === 'crash';

    // What the failed run left: never an incomplete drop that could be taken for delivered.
    const drops = (await listKeys(local, 'daily/slot=20240116T060000Z/')).filter((k) => k.endsWith('manifest.json'));
    const committed = drops.length === 1;
    const right = (found: string[]) => found.map((p) => `right after the failed run: ${p}`);
    // A delivered run may leave cleanup for the next one; an undelivered one leaves nothing.
    problems.push(...right(await storeProblems(local, { leftovers: !crash && !committed, orphans: !crash })));
    const failedEvents = outboxEvents(local).filter((e) => e.type === 'run.failed');
    if (committed) {
      if (!crash && (failed instanceof Error || failed.status !== 'delivered'))
        problems.push(
          ...right([`the manifest is written but the run says ${failed instanceof Error ? failed.message : `${failed.status}: ${failed.error?.message}`}`]),
        );
      if (failedEvents.length) problems.push(...right([`run.failed sent for a delivered run: ${failedEvents[0].error?.message}`]));
    } else if (!(failed instanceof Error) && failed.status !== 'failed') {
      problems.push(...right([`nothing was delivered but the run says ${failed.status}`]));
    }
    if (!crash && !(failed instanceof Error)) problems.push(...right(await settledProblems(local, { leasesOnly: true })));

    // Recovery: the process of a crashed run is gone, so its lease keeps no one out.
    const deadPids = crash ? [process.pid] : [];
    if (recover === 'repair') {
      await within(20_000, 'repair', repairIn(dir, { deadPids }));
      const after = (await listKeys(local, 'daily/slot=20240116T060000Z/')).filter((k) => k.endsWith('manifest.json'));
      if (after.length !== drops.length) problems.push(`repair changed the delivered drops from ${drops.length} to ${after.length}`);
    } else {
      const next = await within(20_000, 'next run', runIn(dir, { deadPids }));
      const expected = committed ? 'already-delivered' : 'delivered';
      if (next.status !== expected) problems.push(`the next run says ${next.status} (${next.error?.message}), expected ${expected}`);
      const after = (await listKeys(local, 'daily/slot=20240116T060000Z/')).filter((k) => k.endsWith('manifest.json'));
      if (after.length !== 1) problems.push(`after the next run slot 16 has ${after.length} manifests`);
      else if (committed && after[0] !== drops[0]) problems.push(`the next run replaced the delivered drop ${drops[0]} with ${after[0]}`);
      else {
        const m = JSON.parse((await local.get(after[0]))!.body.toString('utf8')) as Manifest;
        if (m.revision !== 1) problems.push(`slot 16 was delivered as revision ${m.revision}`);
      }
    }
    problems.push(...(await storeProblems(local)));
    const noticeWindow = crash && faulty?.fired?.index === noticeRecordWrite();
    problems.push(...(await settledProblems(local, { gone: [base.slot14RunId], deadPids, atLeastOnce: noticeWindow })));
    return problems.map((p) => `${what}, recovered by ${recover}: ${p}`);
  }

  /**
   * The write that marks the outbox as having the notice (the run record's second-to-last write:
   * intent, this mark, then sent): a crash there is the at-least-once window, the outbox has it
   * and the record cannot say so.
   */
  function noticeRecordWrite(): number {
    const records = cleanLog.filter((e) => e.op === 'put' && e.key.startsWith('_runs/'));
    return records[records.length - 2].index;
  }

  async function sweep(mode: Fault['mode'], recover: 'run' | 'repair'): Promise<string[]> {
    const problems: string[] = [];
    // One past the last write is the control: no fault fires, the run delivers.
    for (let at = 0; at <= cleanLog.length; at++) problems.push(...(await faultCase({ at, mode }, recover)));
    return problems;
  }

  it('a refused write anywhere leaves no trace or a complete drop, and the next run delivers it once', async () => {
    expect(await sweep('before', 'run')).toEqual([]);
  });

  it('a write whose reply is lost anywhere leaves no trace or a complete drop, and repair settles it', async () => {
    expect(await sweep('after', 'repair')).toEqual([]);
  });

  it('a store lost for good at any write (a crash) is converged by the next run: one drop, one notice, true records', async () => {
    expect(await sweep('crash', 'run')).toEqual([]);
  });

  it('a store lost for good at any write (a crash) is settled by repair: delivered runs announced once, the others recorded failed', async () => {
    expect(await sweep('crash', 'repair')).toEqual([]);
  });
});
