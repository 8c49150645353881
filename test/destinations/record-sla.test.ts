import { parse } from 'yaml';
import { feedSchema } from '../../lib/core/feed/feed-schema';
import type { Manifest, ManifestDestination } from '../../lib/core/manifest';
import type { RunRecord } from '../../lib/core/run-record';
import type { WatchedFeed } from '../../lib/core/sla-watch/expected-slots';
import { slaWatch } from '../../lib/core/sla-watch/sla-watch';
import type { DestinationRecord } from '../../lib/core/ports/destination';
import { fixedClock } from '../../lib/core/ports/clock';
import { DAILY, manifestFor, putManifest, putRun, RecordingNotifier, runRecordFor, tempStore } from '../sla/sla-fixtures';
import { dailyFeed } from '../helpers/temp-project';

const SLOT = '20240115T060000Z';
const AT = '2024-01-15T06:00:00.000Z';
// DAILY: warn 07:00, due 08:00, MISSED from 08:30.
const PUSHED: WatchedFeed = { ...DAILY, sla: { ...DAILY.sla, deliveredWhen: 'destinations' } };

const section = (...names: string[]): Manifest['delivery'] => ({
  destinations: names.map((name): ManifestDestination => ({ name, kind: 'sftp', target: `sftp ${name}`, mode: 'full', partner: null })),
});

function pushed(destination: string, status: DestinationRecord['status'], finishedAt: string, error?: string): DestinationRecord {
  return {
    destination,
    target: `sftp ${destination}`,
    mode: 'full',
    status,
    units: [],
    files: 2,
    bytes: 20,
    rowsSent: 0,
    rowsRejected: status === 'partial' ? 2 : 0,
    errors: error ? [{ message: error }] : [],
    startedAt: AT,
    finishedAt,
  };
}

describe('the SLA of a feed delivered when its destinations have the drop', () => {
  let t: ReturnType<typeof tempStore>;
  beforeEach(() => (t = tempStore()));
  afterEach(() => t.cleanup());

  /** Publishes revision `revision` at 06:30, with `names` in its delivery section (none: an older manifest), and its run record. */
  async function publish(opts: { revision?: number; names?: string[]; records?: DestinationRecord[]; keepManifest?: boolean }) {
    const m = manifestFor({
      slot: SLOT,
      scheduledFor: AT,
      expectedBy: '2024-01-15T08:00:00.000Z',
      deliveredAt: '2024-01-15T06:30:00.000Z',
      revision: opts.revision,
    });
    const manifest: Manifest = opts.names ? { ...m, delivery: section(...opts.names) } : m;
    if (opts.keepManifest !== false) await putManifest(t.store, manifest);
    const record: RunRecord = {
      ...runRecordFor({ slot: SLOT, status: 'delivered', startedAt: '2024-01-15T06:01:00.000Z', revision: opts.revision, rowCount: 3 }),
      ...(opts.records ? { destinations: opts.records } : {}),
    };
    await putRun(t.store, record);
  }

  async function stateAt(now: string, feed: WatchedFeed = PUSHED, consumer?: RecordingNotifier) {
    const out = await slaWatch(
      { feeds: [feed], at: now, lookBack: 'PT12H', notify: consumer !== undefined },
      { store: t.store, clock: fixedClock('2000-01-01T00:00:00Z'), notifiers: { consumers: () => (consumer ? [consumer] : []), operators: [] } },
    );
    return out.slots[0];
  }

  it('is RUNNING, then AT_RISK at the warn point, then MISSED, while a destination has not received it, and tells partners which', async () => {
    await publish({ names: ['acme-sftp'] });
    expect(await stateAt('2024-01-15T06:45:00Z')).toMatchObject({ state: 'RUNNING', deliveredAt: null });
    const consumer = new RecordingNotifier('acme-hook');
    const risky = await stateAt('2024-01-15T07:00:00Z', PUSHED, consumer);
    expect(risky.state).toBe('AT_RISK');
    expect(risky.detail).toMatch(/destination acme-sftp has not received it yet/);
    expect(consumer.events.map((e) => e.type)).toEqual(['data.delay']);
    expect(JSON.stringify(consumer.events[0])).toMatch(/acme-sftp/);
    expect((await stateAt('2024-01-15T08:30:00Z')).state).toBe('MISSED');
  });

  it('is AT_RISK at once when a destination failed, naming it, its error and the fix', async () => {
    await publish({ names: ['acme-sftp'], records: [pushed('acme-sftp', 'failed', '2024-01-15T06:31:00.000Z', 'Error: host key mismatch')] });
    const s = await stateAt('2024-01-15T06:45:00Z');
    expect(s.state).toBe('AT_RISK');
    expect(s.detail).toBe(
      'published 2024-01-15T06:30:00.000Z, not at its destinations: destination acme-sftp failed: Error: host key mismatch (fix the destination, then `dropkit repair daily` pushes again from where it stopped)',
    );
    expect(s.destinations).toEqual([
      {
        destination: 'acme-sftp',
        target: 'sftp acme-sftp',
        status: 'failed',
        finishedAt: '2024-01-15T06:31:00.000Z',
        error: 'Error: host key mismatch',
        rowsRejected: 0,
      },
    ]);
  });

  it('counts the drop delivered when the last destination finished (rows an API rejected included), MET or LATE by that time', async () => {
    await publish({
      names: ['acme-sftp', 'crm'],
      records: [pushed('acme-sftp', 'delivered', '2024-01-15T07:10:00.000Z'), pushed('crm', 'partial', '2024-01-15T08:20:00.000Z')],
    });
    expect(await stateAt('2024-01-15T09:00:00Z')).toMatchObject({
      state: 'LATE',
      deliveredAt: '2024-01-15T08:20:00.000Z',
      latenessSeconds: 1200,
      detail: 'at its destinations (acme-sftp, crm) 20 min late',
    });
    // The same drop judged as published: on time, whatever its destinations did.
    expect(await stateAt('2024-01-15T09:00:00Z', DAILY)).toMatchObject({ state: 'MET', deliveredAt: '2024-01-15T06:30:00.000Z' });
  });

  it('takes the first revision that reached every destination', async () => {
    await publish({ revision: 1, names: ['acme-sftp'], records: [pushed('acme-sftp', 'failed', '2024-01-15T06:31:00.000Z', 'Error: refused')] });
    await publish({ revision: 2, names: ['acme-sftp'], records: [pushed('acme-sftp', 'delivered', '2024-01-15T07:40:00.000Z')] });
    expect(await stateAt('2024-01-15T09:00:00Z')).toMatchObject({ state: 'MET', deliveredAt: '2024-01-15T07:40:00.000Z', revision: 2 });
  });

  it('reads an older manifest without a delivery section from the run record, and one without destinations as published', async () => {
    await publish({ records: [pushed('acme-sftp', 'delivered', '2024-01-15T07:50:00.000Z')] });
    expect(await stateAt('2024-01-15T09:00:00Z')).toMatchObject({ state: 'MET', deliveredAt: '2024-01-15T07:50:00.000Z' });
    t.cleanup();
    t = tempStore();
    await publish({});
    expect(await stateAt('2024-01-15T09:00:00Z')).toMatchObject({ state: 'MET', deliveredAt: '2024-01-15T06:30:00.000Z', detail: 'delivered on time' });
  });

  it('judges a slot whose drop retention removed by the destinations in its run record', async () => {
    await publish({ keepManifest: false, records: [pushed('acme-sftp', 'delivered', '2024-01-15T08:05:00.000Z')] });
    expect(await stateAt('2024-01-15T09:00:00Z')).toMatchObject({ state: 'LATE', deliveredAt: '2024-01-15T08:05:00.000Z', latenessSeconds: 300 });
  });
});

describe('sla.deliveredWhen in a feed file', () => {
  it('needs destinations the drop goes to, naming the field and the fix', () => {
    const raw = parse(dailyFeed('daily')) as { sla: object };
    const result = feedSchema.safeParse({ ...raw, sla: { ...raw.sla, deliveredWhen: 'destinations' } });
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join('.') === 'sla.deliveredWhen');
    expect(issue?.message).toMatch(/no destinations/);
    expect(JSON.stringify(issue)).toMatch(/add destinations/);
    const ok = feedSchema.safeParse({
      ...raw,
      sla: { ...raw.sla, deliveredWhen: 'destinations' },
      destinations: [{ name: 'inbox', type: 'local', path: 'in' }],
    });
    expect(ok.success).toBe(true);
    expect(feedSchema.safeParse({ ...raw, sla: { ...raw.sla, deliveredWhen: 'always' } }).success).toBe(false);
  });
});
