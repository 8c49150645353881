import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { pushDrop } from '../../lib/core/destinations/push-drop';
import { deliveryRecordKey } from '../../lib/core/destinations/delivery-keys';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import { feedSchema } from '../../lib/core/feed/feed-schema';
import { pushDelivered } from '../../lib/core/graph/node-tasks';
import { leaseKey, runRecordKey } from '../../lib/core/layout';
import { acquireLease, readLease } from '../../lib/core/lease';
import type { Clock } from '../../lib/core/ports/clock';
import type { DeliveryProgress, Destination } from '../../lib/core/ports/destination';
import { PUSH_PENDING, type RunRecord } from '../../lib/core/run-record';
import { dailyFeed } from '../helpers/temp-project';
import { publishDrop } from './drops';

const TTL = 600;
const START = Date.parse('2024-01-15T07:00:00Z');

/** A clock the test moves: a push's units take the time the test says they take. */
function movingClock(): Clock & { advance(seconds: number): void } {
  let t = START;
  return { now: () => new Date(t), advance: (s) => void (t += s * 1000) };
}

/** A destination that sends `units` one after the other, each taking `secondsPerUnit` on the clock; `during` runs before the unit named. */
function slowDestination(
  name: string,
  units: readonly string[],
  clock: ReturnType<typeof movingClock>,
  secondsPerUnit: number,
  during?: Record<string, () => Promise<void>>,
) {
  const sent: string[] = [];
  const destination: Destination = {
    name,
    target: `fake ${name}`,
    async deliver(_input, progress: DeliveryProgress) {
      for (const unit of units) {
        if (progress.done.has(unit)) continue;
        await during?.[unit]?.();
        clock.advance(secondsPerUnit);
        sent.push(unit);
        await progress.markDone(unit, { bytes: 1 });
      }
    },
  };
  return { destination, sent };
}

describe('a push under the slot lease', () => {
  let dir: string;
  let store: LocalStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dropkit-push-lease-'));
    store = new LocalStore(join(dir, 'store'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const feed = {
    file: 'feeds/daily.yaml',
    spec: feedSchema.parse({
      ...parse(dailyFeed('daily')),
      destinations: [
        { name: 'inbox', type: 'local', path: 'inbox' },
        { name: 'archive', type: 'local', path: 'archive' },
      ],
    }),
  } as FeedDefinition;

  /** A delivered drop, its run record, and the publishing attempt's lease on the slot. */
  async function delivered(clock: Clock) {
    const ref = { ...(await publishDrop(store, 'r1', 'SELECT 1 AS id')), revision: 1 };
    const at = clock.now().toISOString();
    const record: RunRecord = {
      ...{ feed: 'daily', partner: null, runId: 'r1', revision: 1, slot: ref.slot, scheduledFor: at, attemptId: 'a1', status: 'delivered', step: 'notify' },
      ...{
        startedAt: at,
        finishedAt: at,
        error: null,
        validation: null,
        manifest: ref.manifestKey,
        rowCount: 1,
        noticeSent: true,
        notifications: [],
        pending: [],
      },
    };
    await store.put(runRecordKey(ref, ref.slot, ref.runId), JSON.stringify(record));
    const lease = await acquireLease(store, leaseKey(ref, ref.slot), { attemptId: 'a1', runId: 'r1' }, clock.now(), { ttlSeconds: TTL });
    expect(lease.acquired).toBe(true);
    return ref;
  }

  it('renews the lease while a push outlasts its TTL, so no other run can take the slot meanwhile', async () => {
    const clock = movingClock();
    const ref = await delivered(clock);
    // Eight files of four minutes each: 32 minutes, against a lease of ten.
    const inbox = slowDestination('inbox', ['p0', 'p1', 'p2', 'p3'], clock, 240);
    const archive = slowDestination('archive', ['p0', 'p1', 'p2', 'p3'], clock, 240);
    const fakes: Record<string, Destination> = { inbox: inbox.destination, archive: archive.destination };
    const deps = { store, clock, destinationBuilder: () => (spec: { name: string }) => fakes[spec.name] };

    const records = await pushDrop(ref, feed, deps, { attemptId: 'a1', ttlSeconds: TTL });

    expect(records.map((r) => [r.destination, r.status])).toEqual([
      ['inbox', 'delivered'],
      ['archive', 'delivered'],
    ]);
    const lease = (await readLease(store, leaseKey(ref, ref.slot)))!;
    expect(lease.attemptId).toBe('a1');
    // Renewed at most a third of the TTL before the push ended: still held now.
    expect(Date.parse(lease.expiresAt)).toBeGreaterThan(clock.now().getTime() + ((TTL * 2) / 3) * 1000 - 1);
    const rival = await acquireLease(store, leaseKey(ref, ref.slot), { attemptId: 'rival', runId: 'r1' }, clock.now(), { ttlSeconds: TTL });
    expect(rival).toMatchObject({ acquired: false, holder: { attemptId: 'a1' } });
  });

  it('stops when another attempt took the slot: what is unsent stays pending in the run record, and the next push resumes it', async () => {
    const clock = movingClock();
    const ref = await delivered(clock);
    // p1 stalls past the lease's TTL; a rerun of the slot takes it over meanwhile.
    const takeOver = async () => {
      clock.advance(TTL + 1);
      const rival = await acquireLease(store, leaseKey(ref, ref.slot), { attemptId: 'rerun', runId: 'r2' }, clock.now(), { ttlSeconds: TTL });
      expect(rival.acquired).toBe(true);
    };
    const inbox = slowDestination('inbox', ['p0', 'p1', 'p2'], clock, 10, { p1: takeOver });
    const archive = slowDestination('archive', ['p0'], clock, 10);
    const fakes: Record<string, Destination> = { inbox: inbox.destination, archive: archive.destination };
    const deps = {
      store,
      clock,
      destinationBuilder: () => (spec: { name: string }) => fakes[spec.name],
      feeds: { get: () => feed },
      lease: { ttlSeconds: TTL },
    };
    const push = (r: typeof ref, f: FeedDefinition, lease?: { attemptId: string; ttlSeconds: number }) => pushDrop(r, f, deps, lease);

    const summary = await pushDelivered(ref, { ...deps, push }, 'a1');

    // The unit under way when the slot was lost is recorded as sent; nothing after it goes out.
    expect(inbox.sent).toEqual(['p0', 'p1']);
    expect(archive.sent).toEqual([]);
    expect(summary.status).toBe('incomplete'); // the graph alerts the operators (PUSH_INCOMPLETE)
    expect(summary.failed).toEqual([expect.stringMatching(/^inbox: SlotBusyError: another run took over/), expect.stringMatching(/^archive: SlotBusyError/)]);
    const record = JSON.parse((await store.get(runRecordKey(ref, ref.slot, ref.runId)))!.body.toString('utf8')) as RunRecord;
    expect(record.destinations?.map((d) => [d.destination, d.status, d.units])).toEqual([
      ['inbox', 'failed', ['p0', 'p1']],
      ['archive', 'failed', []],
    ]);
    expect(record.pending.filter((p) => p.startsWith(PUSH_PENDING))).toEqual([
      expect.stringMatching(/^push: destination inbox failed: SlotBusyError/),
      expect.stringMatching(/^push: destination archive failed: SlotBusyError/),
    ]);
    // The slot is the rerun's: the lost attempt wrote nothing to the lease.
    expect((await readLease(store, leaseKey(ref, ref.slot)))?.attemptId).toBe('rerun');

    // The next push of the run (repair, with a lease of its own) sends only what is missing.
    clock.advance(TTL + 1);
    expect((await acquireLease(store, leaseKey(ref, ref.slot), { attemptId: 'repair', runId: 'r1' }, clock.now(), { ttlSeconds: TTL })).acquired).toBe(true);
    const resumed = await pushDelivered(ref, { ...deps, push }, 'repair');
    expect(resumed).toEqual({ status: 'pushed', destinations: 2, failed: [] });
    expect(inbox.sent).toEqual(['p0', 'p1', 'p2']);
    expect(archive.sent).toEqual(['p0']);
    const inboxRecord = JSON.parse((await store.get(deliveryRecordKey(ref, 'inbox')))!.body.toString('utf8'));
    expect(inboxRecord).toMatchObject({ status: 'delivered', units: ['p0', 'p1', 'p2'] });
  });

  it('does not start when the slot is already another attempt’s', async () => {
    const clock = movingClock();
    const ref = await delivered(clock);
    clock.advance(TTL + 1);
    expect((await acquireLease(store, leaseKey(ref, ref.slot), { attemptId: 'rerun', runId: 'r2' }, clock.now(), { ttlSeconds: TTL })).acquired).toBe(true);
    const inbox = slowDestination('inbox', ['p0'], clock, 10);
    const archive = slowDestination('archive', ['p0'], clock, 10);
    const fakes: Record<string, Destination> = { inbox: inbox.destination, archive: archive.destination };
    const records = await pushDrop(
      ref,
      feed,
      { store, clock, destinationBuilder: () => (spec: { name: string }) => fakes[spec.name] },
      { attemptId: 'a1', ttlSeconds: TTL },
    );
    expect(inbox.sent).toEqual([]);
    expect(archive.sent).toEqual([]);
    expect(records.map((r) => r.status)).toEqual(['failed', 'failed']);
    // Nothing was written for a destination this attempt never reached.
    expect(await store.get(deliveryRecordKey(ref, 'inbox'))).toBeUndefined();
  });
});
