import { randomBytes } from 'node:crypto';
import type { Manifest } from '../../lib/core/manifest';
import type { RunRecord } from '../../lib/core/run-record';
import type { LocalStore } from '../../lib/adapters/local/local-store';
import type { ObjectStore } from '../../lib/core/ports/object-store';
import type { QueryEngine } from '../../lib/core/ports/query-engine';
import type { RunOutcome } from '../../lib/runner/run-slot';
import { startDropkit } from '../helpers/child-dropkit';
import { listKeys, readJson } from '../helpers/local-run';
import { dropsOf, outboxEvents, settledProblems, storeProblems } from '../helpers/protocol-audit';
import { baseProject, BaseProject, localStoreOf, NOW, plainFeed, runIn, RunInOptions, SLOT_16, within } from '../helpers/protocol-fixture';

/** Every run of it gives other values: two attempts that shared files would give a manifest that does not match them. */
const VARYING_SQL = 'SELECT random() AS r, range AS i FROM range(1000)\n';
const RECORDS = '_runs/daily/slot=20240116T060000Z/';

interface Racer {
  readonly outcome: RunOutcome;
  /** The attempt id this racer used, when it got as far as taking one. */
  readonly attemptId?: string;
}

/** One in-process racer: a rerun of slot 16 with its own attempt ids, so its records can be told apart. */
async function racer(dir: string, options: RunInOptions = {}): Promise<Racer> {
  let attemptId: string | undefined;
  const outcome = await runIn(dir, { rerun: true, ...options, newAttemptId: () => (attemptId = randomBytes(6).toString('hex')) });
  return { outcome, attemptId };
}

/**
 * What must hold however the race went: each delivered revision has exactly one winner whose
 * record it is, revisions run 1..n, every manifest verifies, each supersedes the one before,
 * history has no failure for a delivered revision, one notice each and no failure notice.
 */
async function raceProblems(local: LocalStore, winners: readonly Racer[], otherDelivered: readonly { revision: number }[] = []): Promise<string[]> {
  const problems: string[] = [];
  const revisions = [...winners.map((w) => w.outcome), ...otherDelivered].map((d) => d.revision).sort((a, b) => a - b);
  if (JSON.stringify(revisions) !== JSON.stringify(revisions.map((_, i) => i + 1))) problems.push(`delivered revisions ${revisions}`);
  const drops = (await dropsOf(local)).filter((d) => d.manifest);
  const stored = drops.map((d) => d.manifest!.revision).sort((a, b) => a - b);
  if (JSON.stringify(stored) !== JSON.stringify(revisions)) problems.push(`manifests of revisions ${stored}, outcomes say ${revisions}`);
  problems.push(...(await storeProblems(local)));
  const byRevision = new Map(drops.map((d) => [d.manifest!.revision, d.manifest!] as [number, Manifest]));
  for (const [revision, m] of byRevision) {
    const expected = revision === 1 ? null : byRevision.get(revision - 1)?.runId;
    if (m.supersedes !== expected) problems.push(`revision ${revision} supersedes ${m.supersedes}, not ${expected}`);
  }
  for (const w of winners) {
    const r = await readJson<RunRecord>(local, `${RECORDS}${w.outcome.runId}.json`);
    if (r.attemptId !== w.attemptId || r.status !== 'delivered' || r.manifest !== w.outcome.manifestKey || !r.noticeSent) {
      problems.push(`record of ${w.outcome.runId} says ${r.status} by ${r.attemptId}, the winner was ${w.attemptId}`);
    }
  }
  for (const key of await listKeys(local, '_runs/')) {
    const r = await readJson<RunRecord>(local, key);
    if (r.status !== 'delivered') problems.push(`${key} says ${r.status} at ${r.step}: ${r.error?.message}`);
  }
  for (const e of outboxEvents(local).filter((e) => e.type === 'run.failed')) problems.push(`run.failed sent: ${e.error?.message}`);
  problems.push(...(await settledProblems(local)));
  return problems;
}

describe('racing attempts at the same slot', () => {
  let base: BaseProject;
  beforeAll(async () => {
    base = await baseProject({ feed: plainFeed(1000), sql: VARYING_SQL, deliverSlot14: false });
  });
  afterAll(() => base.cleanup());

  it('each batch of 20 reruns started at once delivers exactly one revision; the other 19 stand aside and leave no record of their own', async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    const winners: Racer[] = [];
    for (let batch = 1; batch <= 3; batch++) {
      // The one that gets the slot waits (at most 5 s) until the other 19 have ended, so all of them meet it.
      let ended = 0;
      const othersEnded = async () => {
        for (const until = Date.now() + 5000; ended < 19 && Date.now() < until;) await new Promise((r) => setTimeout(r, 5));
      };
      const racers = await within(
        30_000,
        `batch ${batch}`,
        Promise.all(Array.from({ length: 20 }, () => racer(dir, { beforeEngine: othersEnded }).finally(() => ended++))),
      );
      const delivered = racers.filter((r) => r.outcome.status === 'delivered');
      expect(delivered.map((r) => r.outcome.revision)).toEqual([batch]);
      expect(racers.filter((r) => r.outcome.status !== 'delivered').map((r) => r.outcome.status)).toEqual(Array(19).fill('busy'));
      winners.push(...delivered);
    }
    expect(await raceProblems(local, winners)).toEqual([]);
    expect(await listKeys(local, RECORDS)).toHaveLength(3); // losers left no record of their own
  });

  it('reruns from child processes and staggered in-process reruns interleave: one winner per revision, losers busy (exit 6) or already delivered', async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    const children = [0, 1, 2].map(() => startDropkit(['run', 'daily', '--project', dir, '--slot', SLOT_16, '--rerun', '--json', '--now', NOW], 30_000));
    // Two racers every 60 ms for about as long as the children take to start and run.
    const racers: Promise<Racer>[] = [];
    for (let wave = 0; wave < 12; wave++) {
      racers.push(racer(dir), racer(dir));
      await new Promise((r) => setTimeout(r, 60));
    }
    const inProcess = await within(30_000, 'in-process racers', Promise.all(racers));
    const childResults = await Promise.all(children.map((c) => c.done));
    const fromChildren = childResults.map((c) => ({ code: c.code, ...(JSON.parse(c.stdout || '{}') as { status: string; revision: number }) }));

    const statuses = [...inProcess.map((r) => r.outcome.status), ...fromChildren.map((c) => c.status)];
    expect(statuses.filter((s) => !['delivered', 'busy', 'already-delivered'].includes(s))).toEqual([]);
    expect(statuses).toContain('busy');
    for (const c of fromChildren) expect(c.code).toBe(c.status === 'busy' ? 6 : 0); // 6: another run is delivering this slot
    const winners = inProcess.filter((r) => r.outcome.status === 'delivered');
    expect(
      await raceProblems(
        local,
        winners,
        fromChildren.filter((c) => c.status === 'delivered'),
      ),
    ).toEqual([]);
  });

  it("an attempt that planned the same revision and gets the lease only after the winner delivered it ends already delivered, leaving the winner's record and notice alone", async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    let letGo!: () => void;
    const winnerDone = new Promise<void>((r) => (letGo = r));
    let planned!: () => void;
    const latePlanned = new Promise<void>((r) => (planned = r));
    // The late one's first lease write waits until the winner has delivered and let go of the slot.
    const lateLease = (store: ObjectStore): ObjectStore => {
      let first = true;
      return new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (prop !== 'put') return typeof value === 'function' ? value.bind(target) : value;
          return async (key: string, ...rest: unknown[]) => {
            if (first && key.startsWith('_leases/')) {
              first = false;
              planned();
              await winnerDone;
            }
            return value.call(target, key, ...rest);
          };
        },
      });
    };
    const late = racer(dir, { store: lateLease });
    await within(10_000, 'the late attempt planning', latePlanned);
    const winner = await racer(dir);
    letGo();
    const loser = await within(10_000, 'the late attempt', late);

    expect(winner.outcome).toMatchObject({ status: 'delivered', revision: 1 });
    expect(loser.outcome).toMatchObject({ status: 'already-delivered', runId: winner.outcome.runId });
    expect(await raceProblems(local, [winner])).toEqual([]); // the record is the winner's, one notice
    expect(outboxEvents(local).map((e) => e.type)).toEqual(['drop.delivered']);
  });

  it('an attempt whose lease expired while it stalled is fenced off at publish: the one that took over delivers, the stalled one touches nothing of it', async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    let resume!: () => void;
    const gate = new Promise<void>((r) => (resume = r));
    let stalled!: () => void;
    const rendering = new Promise<void>((r) => (stalled = r));
    // The first attempt stalls in render until the second one has delivered.
    const slow = (engine: QueryEngine): QueryEngine =>
      new Proxy(engine, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (prop !== 'exportParquet') return typeof value === 'function' ? value.bind(target) : value;
          return async (...args: unknown[]) => {
            stalled();
            await gate;
            return value.apply(target, args);
          };
        },
      });
    const first = racer(dir, { engine: slow });
    await within(10_000, 'first attempt reaching render', rendering);
    // Two hours later (the lease lives one), a second attempt finds the lease expired and takes the slot.
    const second = await racer(dir, { now: '2024-01-16T09:00:00Z' });
    resume();
    const loser = await within(10_000, 'stalled attempt', first);

    expect(second.outcome.status).toBe('delivered');
    expect(second.outcome.runId).toBe(loser.outcome.runId); // the same run, planned by both
    expect(loser.outcome).toMatchObject({ status: 'busy', manifestKey: null });
    expect(await raceProblems(local, [second])).toEqual([]);
    expect(await listKeys(local, '_staging/')).toEqual([]); // the loser removed its own staging
  });
});
