import { deliveryRecord } from '../../lib/core/sla-watch/delivery-record';
import { slaWatch } from '../../lib/core/sla-watch/sla-watch';
import { fixedClock } from '../../lib/core/ports/clock';
import { DAILY, manifestFor, putManifest, putRun, runRecordFor, tempStore } from './sla-fixtures';

const SLOT = '20240115T060000Z';
const AT = '2024-01-15T06:00:00.000Z';
// DAILY: warn 07:00, due 08:00, MISSED from 08:30.

describe('the SLA state of a slot at a fixed time', () => {
  let t: ReturnType<typeof tempStore>;
  beforeEach(() => (t = tempStore()));
  afterEach(() => t.cleanup());

  async function stateAt(now: string, extra: { exceptDates?: string[] } = {}) {
    const out = await slaWatch(
      { feeds: [DAILY], at: now, lookBack: 'PT12H', notify: false, ...extra },
      { store: t.store, clock: fixedClock('2000-01-01T00:00:00Z'), notifiers: { consumers: () => [], operators: [] } },
    );
    expect(out.slots).toHaveLength(1);
    return out;
  }

  it('is PENDING before the warn point when no run has started', async () => {
    const out = await stateAt('2024-01-15T06:30:00Z');
    expect(out.slots[0]).toMatchObject({ slot: SLOT, state: 'PENDING', expectedBy: '2024-01-15T08:00:00.000Z', warnAt: '2024-01-15T07:00:00.000Z' });
    expect(out.allDelivered).toBe(false);
    expect(out.attention).toBe(false);
  });

  it('is AT_RISK past the warn point and MISSED past deadline plus grace when nothing ran', async () => {
    expect((await stateAt('2024-01-15T07:00:00Z')).slots[0].state).toBe('AT_RISK');
    expect((await stateAt('2024-01-15T08:29:59Z')).slots[0].state).toBe('AT_RISK');
    const missed = await stateAt('2024-01-15T08:30:00Z');
    expect(missed.slots[0]).toMatchObject({ state: 'MISSED', stuckRun: null });
    expect(missed.attention).toBe(true);
    expect(missed.counts.MISSED).toBe(1);
  });

  it('is RUNNING while a run is under way, and MISSED with a stuck run once deadline plus grace passes', async () => {
    await putRun(t.store, runRecordFor({ slot: SLOT, status: 'running', startedAt: '2024-01-15T06:05:00.000Z', step: 'render' }));
    expect((await stateAt('2024-01-15T07:45:00Z')).slots[0]).toMatchObject({ state: 'RUNNING', revision: 1 });
    const stuck = (await stateAt('2024-01-15T09:00:00Z')).slots[0];
    expect(stuck.state).toBe('MISSED');
    expect(stuck.stuckRun).toEqual({ runId: expect.stringMatching(/^20240115T060000Z-r1-/), step: 'render', startedAt: '2024-01-15T06:05:00.000Z' });
    expect(stuck.detail).toMatch(/running.*since 2024-01-15T06:05:00.000Z.*stuck/);
  });

  it('is FAILED with the kind of failure: validation or error', async () => {
    await putRun(
      t.store,
      runRecordFor({ slot: SLOT, status: 'validation-failed', startedAt: '2024-01-15T06:01:00.000Z', message: 'check unique(id) failed: 2 duplicate rows' }),
    );
    expect((await stateAt('2024-01-15T06:30:00Z')).slots[0]).toMatchObject({
      state: 'FAILED',
      failure: { kind: 'validation', step: 'validate', message: 'check unique(id) failed: 2 duplicate rows' },
    });
    // A later run that failed in the engine is what the slot shows now.
    await putRun(
      t.store,
      runRecordFor({
        slot: SLOT,
        status: 'failed',
        revision: 1,
        startedAt: '2024-01-15T06:20:00.000Z',
        step: 'stage',
        message: 'table events does not exist\nmore',
      }),
    );
    expect((await stateAt('2024-01-15T06:30:00Z')).slots[0]).toMatchObject({
      state: 'FAILED',
      failure: { kind: 'error', step: 'stage', message: 'table events does not exist' },
    });
  });

  it('is MET or LATE once delivered, with the lateness of the first delivery and the rows of the newest revision', async () => {
    const first = manifestFor({ slot: SLOT, scheduledFor: AT, expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T08:20:00.000Z', rowCount: 5 });
    await putManifest(t.store, first);
    const late = await stateAt('2024-01-15T09:00:00Z');
    expect(late.slots[0]).toMatchObject({
      state: 'LATE',
      latenessSeconds: 1200,
      deliveredAt: '2024-01-15T08:20:00.000Z',
      rowCount: 5,
      revision: 1,
      detail: 'delivered 20 min late',
    });
    expect(late.allDelivered).toBe(true);
    await putManifest(
      t.store,
      manifestFor({ slot: SLOT, scheduledFor: AT, expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T10:00:00.000Z', revision: 2, rowCount: 6 }),
    );
    expect((await stateAt('2024-01-15T11:00:00Z')).slots[0]).toMatchObject({ state: 'LATE', latenessSeconds: 1200, rowCount: 6, revision: 2, revisions: 2 });
  });

  it('is MET when delivered by the deadline', async () => {
    await putManifest(t.store, manifestFor({ slot: SLOT, scheduledFor: AT, expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T07:59:59.000Z' }));
    expect((await stateAt('2024-01-15T09:00:00Z')).slots[0]).toMatchObject({ state: 'MET', latenessSeconds: 0 });
  });

  it('is NOT_EXPECTED on a calendar exception date, which counts as fine', async () => {
    const out = await stateAt('2024-01-15T09:00:00Z', { exceptDates: ['2024-01-15'] });
    expect(out.slots[0]).toMatchObject({ state: 'NOT_EXPECTED', detail: '2024-01-15 is a calendar exception of the project' });
    expect(out.allDelivered).toBe(true);
    expect((await stateAt('2024-01-15T09:00:00Z', { exceptDates: ['2024-01-16'] })).slots[0].state).toBe('MISSED');
  });

  it('reads a long window (hundreds of slots) with one listing of the feed and still finds each delivery', async () => {
    const hourly = { ...DAILY, start: '2024-01-01', schedule: { cron: '0 * * * *', timezone: 'UTC' } };
    await putManifest(
      t.store,
      manifestFor({
        slot: '20240105T030000Z',
        scheduledFor: '2024-01-05T03:00:00.000Z',
        expectedBy: '2024-01-05T05:00:00.000Z',
        deliveredAt: '2024-01-05T04:00:00.000Z',
      }),
    );
    await putRun(t.store, runRecordFor({ slot: '20240106T030000Z', status: 'failed', startedAt: '2024-01-06T03:01:00.000Z' }));
    const record = await deliveryRecord(
      { feed: hourly, prefix: '', from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-11T00:00:00Z'), now: new Date('2024-01-11T00:00:00Z') },
      t.store,
    );
    expect(record).toHaveLength(241);
    expect(record.filter((s) => s.state !== 'MISSED').map((s) => `${s.slot} ${s.state}`)).toEqual([
      '20240105T030000Z MET',
      '20240106T030000Z FAILED',
      '20240110T220000Z AT_RISK',
      '20240110T230000Z AT_RISK',
      '20240111T000000Z PENDING',
    ]);
  });
});
