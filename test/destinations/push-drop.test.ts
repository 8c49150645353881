import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { destinationFactory } from '../../lib/adapters/destinations/destination-factory';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { deliveredToDestinations, pushDrop } from '../../lib/core/destinations/push-drop';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import { feedSchema } from '../../lib/core/feed/feed-schema';
import { runRecordKey } from '../../lib/core/layout';
import type { RunRecord } from '../../lib/core/run-record';
import { fixedClock } from '../../lib/core/ports/clock';
import { dailyFeed } from '../helpers/temp-project';
import { publishDrop } from './drops';

describe('pushDrop', () => {
  it("runs the feed's destinations and keeps their records in the run record", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dropkit-push-'));
    try {
      const store = new LocalStore(join(dir, 'store'));
      const ref = await publishDrop(store, 'r1', 'SELECT 1 AS id');
      const spec = feedSchema.parse({
        ...parse(dailyFeed('daily')),
        destinations: [{ name: 'inbox', type: 'local', path: 'partner-inbox' }],
        partners: [{ id: 'acme', destinations: [{ name: 'acme-only', type: 'local', path: 'acme-inbox' }] }],
      });
      const feed = { file: 'feeds/daily.yaml', spec } as FeedDefinition;
      const key = runRecordKey(ref, ref.slot, ref.runId);
      const at = '2024-01-15T07:00:00.000Z';
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
      await store.put(key, JSON.stringify(record));
      const records = await pushDrop({ ...ref, revision: 1 }, feed, {
        store,
        clock: fixedClock('2024-01-15T07:00:00Z'),
        destinationBuilder: (f) => destinationFactory({ feedFile: f.file, projectDir: dir, env: {} }),
      });
      expect(records.map((r) => [r.destination, r.status])).toEqual([['inbox', 'delivered']]);
      expect(JSON.parse((await store.get(key))!.body.toString('utf8')).destinations).toEqual(records);
      // Their manifest is ours plus what they received (record-manifest.test.ts).
      const manifest = JSON.parse(await readFile(join(dir, 'partner-inbox', 'daily', 'slot=20240115T060000Z', 'run=r1', 'manifest.json'), 'utf8'));
      const ours = JSON.parse((await store.get(ref.manifestKey))!.body.toString('utf8'));
      expect({ ...manifest, delivery: undefined }).toEqual(ours);
      expect(manifest.delivery.delivered.destination).toBe('inbox');
      expect(deliveredToDestinations(records)).toBe(true);
      expect(deliveredToDestinations([...records, { ...records[0], status: 'failed' }])).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
