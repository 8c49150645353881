import { deliveryRecord } from '../../lib/core/sla-watch/delivery-record';
import { slaWatch } from '../../lib/core/sla-watch/sla-watch';
import { fixedClock } from '../../lib/core/ports/clock';
import { DAILY, manifestFor, putManifest, putRun, RecordingNotifier, runRecordFor, tempStore } from '../sla/sla-fixtures';

const NOW = new Date('2024-03-31T12:00:00Z');
const NINETY_DAYS_AGO = new Date(NOW.getTime() - 90 * 86_400_000);

const day = (d: string, hm = '06:00') => `${d}T${hm}:00.000Z`;
const slotOf = (d: string) => `${d.replace(/-/g, '')}T060000Z`;
const dropOn = (d: string, delivered: string) => manifestFor({ slot: slotOf(d), scheduledFor: day(d), expectedBy: day(d, '08:00'), deliveredAt: delivered });

describe('a feed start: nothing is owed before it', () => {
  let t: ReturnType<typeof tempStore>;
  beforeEach(() => (t = tempStore()));
  afterEach(() => t.cleanup());

  const record = (feed = DAILY) => deliveryRecord({ feed, prefix: '', from: NINETY_DAYS_AGO, to: NOW, now: NOW }, t.store);

  it('starts a feed without start: at its first recorded slot, so a feed first run today is not 83 slots MISSED', async () => {
    await putManifest(t.store, dropOn('2024-03-31', day('2024-03-31', '07:00')));
    const slots = await record();
    expect(slots.map((s) => `${s.slot} ${s.state}`)).toEqual(['20240331T060000Z MET']);
  });

  it('counts a first run that failed as the start, and owes every slot after it', async () => {
    await putRun(t.store, runRecordFor({ slot: slotOf('2024-03-29'), status: 'failed', startedAt: day('2024-03-29', '06:01') }));
    await putManifest(t.store, dropOn('2024-03-31', day('2024-03-31', '07:00')));
    expect((await record()).map((s) => `${s.slot} ${s.state}`)).toEqual(['20240329T060000Z FAILED', '20240330T060000Z MISSED', '20240331T060000Z MET']);
  });

  it('owes every slot of a feed that never ran at all: that is what the watch must report', async () => {
    const slots = await record();
    expect(slots).toHaveLength(90);
    expect(new Set(slots.map((s) => s.state))).toEqual(new Set(['MISSED']));
  });

  it('with start: owes nothing before it, and a backfilled drop before it is MET, not LATE', async () => {
    // Backfilled in March for a January slot: 60 days after its deadline.
    await putManifest(t.store, dropOn('2024-01-10', day('2024-03-10', '09:00')));
    const slots = await record({ ...DAILY, start: '2024-03-28' });
    // The only row before the start is the backfilled drop: nothing else was owed.
    expect(slots.map((s) => `${s.slot} ${s.state}`)).toEqual([
      '20240110T060000Z MET',
      '20240328T060000Z MISSED',
      '20240329T060000Z MISSED',
      '20240330T060000Z MISSED',
      '20240331T060000Z MISSED',
    ]);
    const backfill = slots.find((s) => s.slot === '20240110T060000Z')!;
    expect([backfill.state, backfill.backfilled, backfill.detail]).toEqual([
      'MET',
      true,
      "backfilled before the feed's start (2024-03-28): not held to the SLA",
    ]);
    // After the start a late delivery stays LATE.
    await putManifest(t.store, dropOn('2024-03-29', day('2024-03-29', '10:00')));
    expect((await record({ ...DAILY, start: '2024-03-28' })).find((s) => s.slot === '20240329T060000Z')!.state).toBe('LATE');
  });

  it('the SLA watch tells nobody about slots before the first record, even over a long look-back', async () => {
    await putManifest(t.store, dropOn('2024-03-30', day('2024-03-30', '07:00')));
    const partner = new RecordingNotifier('partner');
    const ops = new RecordingNotifier('ops');
    const out = await slaWatch(
      { feeds: [DAILY], lookBack: 'P90D' },
      { store: t.store, clock: fixedClock(NOW.toISOString()), notifiers: { consumers: () => [partner], operators: [ops] } },
    );
    expect(out.slots.map((s) => `${s.slot} ${s.state}`)).toEqual(['20240330T060000Z MET', '20240331T060000Z MISSED']);
    expect(partner.events.map((e) => `${e.type} ${e.slot}`)).toEqual(['data.delay 20240331T060000Z']);
  });
});
