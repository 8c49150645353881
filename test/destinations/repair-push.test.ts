import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { destinationFactory } from '../../lib/adapters/destinations/destination-factory';
import { pushDrop } from '../../lib/core/destinations/push-drop';
import { PUSH_INCOMPLETE } from '../../lib/core/graph/step-graph';
import { repairAll } from '../../lib/core/steps/repair';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import type { DeliveredRef } from '../../lib/core/steps/run-plan';
import { runSlot } from '../../lib/runner/run-slot';
import { DAILY_SQL, dailyFeed } from '../helpers/temp-project';
import { lambdaProject } from '../lambdas/lambda-project';

const FEED = dailyFeed('pushed', 'destinations:\n  - { type: local, name: inbox, path: out-inbox }\n');

describe('dropkit repair and a push left unfinished', () => {
  it('resumes the push of a delivered drop whose destination failed, and says nothing is left', async () => {
    const p = await lambdaProject({ files: { 'feeds/pushed.yaml': FEED, 'feeds/pushed.sql': DAILY_SQL } });
    try {
      let down = true;
      const push = (ref: DeliveredRef, feed: FeedDefinition) =>
        pushDrop(ref, feed, {
          store: p.store,
          clock: p.deps.clock,
          destinationBuilder: (f) => (spec) => {
            const d = destinationFactory({ feedFile: f.file, projectDir: p.temp.dir })(spec);
            return { ...d, deliver: (input, progress) => (down ? Promise.reject(new Error('the inbox is full')) : d.deliver(input, progress)) };
          },
        });
      const deps = { ...p.deps, push, openEngine: async () => Object.assign(Object.create(p.deps.engine), { close: async () => undefined }) };
      const run = await runSlot({ feed: 'pushed', partner: null, slot: new Date('2024-01-15T06:00:00Z') }, deps);
      expect(run).toMatchObject({ status: 'delivered', alerts: [PUSH_INCOMPLETE], pending: [expect.stringMatching(/^push: inbox: Error: the inbox is full/)] });
      const manifest = join(p.temp.dir, 'out-inbox', 'pushed', 'slot=20240115T060000Z', `run=${run.runId}`, 'manifest.json');
      expect(existsSync(manifest)).toBe(false);

      // Still down: repair tries, and says what is left.
      expect(await repairAll({ prefix: 'drops' }, deps)).toEqual([
        expect.objectContaining({ action: 'rolled-forward', pending: [expect.stringMatching(/^push: destination inbox failed: /)] }),
      ]);
      down = false;
      expect(await repairAll({ prefix: 'drops' }, deps)).toEqual([expect.objectContaining({ action: 'rolled-forward', pending: [] })]);
      expect(existsSync(manifest)).toBe(true);
      // Pushed: nothing more to repair.
      expect(await repairAll({ prefix: 'drops' }, deps)).toEqual([expect.objectContaining({ action: 'none' })]);
    } finally {
      await p.close();
    }
  });
});
