import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { destinationFactory } from '../../lib/adapters/destinations/destination-factory';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { pushDrop } from '../../lib/core/destinations/push-drop';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import { feedSchema } from '../../lib/core/feed/feed-schema';
import { runRecordKey } from '../../lib/core/layout';
import { parseRunRecord, type RunRecord } from '../../lib/core/run-record';
import type { Destination, DestinationRecord } from '../../lib/core/ports/destination';
import { fixedClock } from '../../lib/core/ports/clock';
import { dailyFeed } from '../helpers/temp-project';
import { publishDrop } from './drops';

describe('the run record of a pushed drop', () => {
  let dir: string;
  let store: LocalStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dropkit-record-'));
    store = new LocalStore(join(dir, 'store'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('gets each destination outcome as it comes, and a retry updates the failed one in place', async () => {
    const ref = { ...(await publishDrop(store, 'r1', 'SELECT 1 AS id')), revision: 1 };
    const key = runRecordKey(ref, ref.slot, ref.runId);
    const old = {
      feed: 'daily',
      partner: null,
      runId: 'r1',
      revision: 1,
      slot: ref.slot,
      scheduledFor: '2024-01-15T06:00:00.000Z',
      attemptId: 'a1',
      status: 'delivered',
      step: 'notify',
      startedAt: '2024-01-15T06:00:01.000Z',
      finishedAt: '2024-01-15T06:00:02.000Z',
      error: null,
      validation: null,
      manifest: ref.manifestKey,
      rowCount: 1,
      noticeSent: true,
      notifications: [],
      pending: [],
    };
    await store.put(key, JSON.stringify(old));
    const spec = feedSchema.parse({
      ...parse(dailyFeed('daily')),
      destinations: [
        { name: 'inbox', type: 'local', path: 'inbox' },
        { name: 'flaky', type: 'local', path: 'flaky' },
      ],
    });
    const feed = { file: 'feeds/daily.yaml', spec } as FeedDefinition;
    const seenByFlaky: (readonly DestinationRecord[] | undefined)[] = [];
    const push = (fails: boolean, at: string) =>
      pushDrop(ref, feed, {
        store,
        clock: fixedClock(at),
        destinationBuilder: (f) => (s) => {
          const real = destinationFactory({ feedFile: f.file, projectDir: dir, env: {} })(s);
          if (s.name !== 'flaky') return real;
          return {
            name: real.name,
            target: real.target,
            deliver: async (input, progress) => {
              seenByFlaky.push(parseRunRecord((await store.get(key))!.body, key).destinations);
              if (fails) throw new Error('connection reset by partner');
              await real.deliver(input, progress);
            },
          } satisfies Destination;
        },
      });
    const read = async () => parseRunRecord((await store.get(key))!.body, key);

    await push(true, '2024-01-15T07:00:00Z');
    // While the second destination ran, the first one's outcome was already in the run record.
    expect(seenByFlaky[0]?.map((r) => [r.destination, r.status])).toEqual([['inbox', 'delivered']]);
    const failed = await read();
    expect(failed.destinations?.map((r) => [r.destination, r.status, r.finishedAt])).toEqual([
      ['inbox', 'delivered', '2024-01-15T07:00:00.000Z'],
      ['flaky', 'failed', '2024-01-15T07:00:00.000Z'],
    ]);
    expect(failed.destinations?.[1].errors).toEqual([{ message: 'Error: connection reset by partner' }]);
    const inbox = failed.destinations![0];
    expect(inbox).toMatchObject({ target: `folder ${join(dir, 'inbox')}`, mode: 'full', files: 3, rowsSent: 0, rowsRejected: 0 });
    expect(inbox.bytes).toBeGreaterThan(0);

    await push(false, '2024-01-15T08:00:00Z');
    const retried = await read();
    expect(retried.destinations?.map((r) => [r.destination, r.status, r.finishedAt])).toEqual([
      ['inbox', 'delivered', '2024-01-15T07:00:00.000Z'],
      ['flaky', 'delivered', '2024-01-15T08:00:00.000Z'],
    ]);
    expect(retried.destinations?.[1]).toMatchObject({ errors: [], files: 3, startedAt: '2024-01-15T07:00:00.000Z' });
    // The rest of the record is left as it was.
    expect(retried).toMatchObject(old);
  });

  it('reads records written before destinations: no destinations, and the old status spelling', () => {
    // As written before destinations and before noticeSent: the old status spelling, no `destinations`.
    const before = {
      feed: 'orders',
      partner: null,
      runId: 'r0',
      revision: 1,
      slot: '20240115T060000Z',
      scheduledFor: '2024-01-15T06:00:00.000Z',
      attemptId: 'a0',
      status: 'validation_failed',
      step: 'validate',
      startedAt: '2024-01-15T06:00:01.000Z',
      finishedAt: '2024-01-15T06:00:02.000Z',
      error: null,
      validation: null,
      manifest: null,
      rowCount: null,
      notifications: [],
      pending: [],
    };
    const record: RunRecord = parseRunRecord(JSON.stringify(before), '_runs/orders/slot=20240115T060000Z/r0.json');
    expect(record.status).toBe('validation-failed');
    expect(record.destinations).toBeUndefined();
  });
});
