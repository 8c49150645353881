import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { slaWatch, SlaWatchInput } from '../../lib/core/sla-watch/sla-watch';
import { fixedClock } from '../../lib/core/ports/clock';
import { DAILY, manifestFor, putManifest, putRun, RecordingNotifier, runRecordFor, tempStore } from './sla-fixtures';

const SLOT = '20240115T060000Z';

describe('the SLA watch tells each change once', () => {
  let t: ReturnType<typeof tempStore>;
  let partner: RecordingNotifier;
  let ops: RecordingNotifier;
  beforeEach(() => {
    t = tempStore();
    partner = new RecordingNotifier('partner');
    ops = new RecordingNotifier('ops');
  });
  afterEach(() => t.cleanup());

  const input: SlaWatchInput = { feeds: [DAILY], lookBack: 'PT12H' };
  const watch = (at: string, notifiers = { partner, ops }) =>
    slaWatch({ ...input, at }, { store: t.store, clock: fixedClock(at), notifiers: { consumers: () => [notifiers.partner], operators: [notifiers.ops] } });

  it('sends no notice for a slot that is pending or delivered on time', async () => {
    await watch('2024-01-15T06:30:00Z');
    await putManifest(
      t.store,
      manifestFor({ slot: SLOT, scheduledFor: '2024-01-15T06:00:00.000Z', expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T06:40:00.000Z' }),
    );
    const out = await watch('2024-01-15T09:00:00Z');
    expect(out.slots[0].state).toBe('MET');
    expect(partner.events).toEqual([]);
    expect(ops.events).toEqual([]);
  });

  it('warns once at risk, once when missed, and not again on repeated watches', async () => {
    const first = await watch('2024-01-15T07:10:00Z');
    expect(first.notices.map((n) => n.id)).toEqual([`sla:daily:-:${SLOT}:data.delay.at_risk`]);
    await watch('2024-01-15T07:20:00Z');
    await watch('2024-01-15T08:00:00Z');
    const missed = await watch('2024-01-15T08:45:00Z');
    expect(missed.notices.map((n) => n.type)).toEqual(['data.delay']);
    await watch('2024-01-15T09:00:00Z');
    await watch('2024-01-15T10:00:00Z');
    expect(partner.events.map((e) => [e.type, e.type === 'data.delay' ? e.delay.phase : undefined, e.id])).toEqual([
      ['data.delay', 'at_risk', `sla:daily:-:${SLOT}:data.delay.at_risk`],
      ['data.delay', 'missed', `sla:daily:-:${SLOT}:data.delay.missed`],
    ]);
    expect(ops.events.map((e) => e.id)).toEqual(partner.events.map((e) => e.id));
    // What was told is kept in the store, beside the drops.
    const record = JSON.parse(readFileSync(join(t.dir, '_sla/daily/slot=20240115T060000Z.json'), 'utf8'));
    expect(record.changes.map((c: { state: string }) => c.state)).toEqual(['AT_RISK', 'MISSED']);
    expect(record.notices.map((n: { status: string }) => n.status)).toEqual(['sent', 'sent']);
  });

  it('announces a slot found already missed as missed only, not at risk first', async () => {
    await watch('2024-01-15T11:00:00Z');
    expect(partner.events.map((e) => (e.type === 'data.delay' ? e.delay.phase : undefined))).toEqual(['missed']);
  });

  it('sends one notice when watches race over the same store', async () => {
    const racers = Array.from({ length: 6 }, (_, i) => ({ partner: new RecordingNotifier(`p${i}`), ops: new RecordingNotifier(`o${i}`) }));
    const outs = await Promise.all(racers.map((r) => watch('2024-01-15T09:00:00Z', r)));
    const sent = racers.flatMap((r) => r.partner.events);
    expect(sent.map((e) => e.id)).toEqual([`sla:daily:-:${SLOT}:data.delay.missed`]);
    expect(racers.flatMap((r) => r.ops.events)).toHaveLength(1);
    expect(outs.every((o) => o.slots[0].state === 'MISSED')).toBe(true);
    expect(outs.flatMap((o) => o.conflicts)).toEqual([]);
  });

  it('sends a recovery notice once when a delayed slot is delivered, with its lateness', async () => {
    await watch('2024-01-15T09:00:00Z');
    await putManifest(
      t.store,
      manifestFor({ slot: SLOT, scheduledFor: '2024-01-15T06:00:00.000Z', expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T09:15:00.000Z' }),
    );
    const out = await watch('2024-01-15T09:30:00Z');
    expect(out.slots[0].state).toBe('LATE');
    await watch('2024-01-15T09:40:00Z');
    expect(partner.events.map((e) => e.type)).toEqual(['data.delay', 'data.delay.recovered']);
    expect(partner.events[1]).toMatchObject({
      id: `sla:daily:-:${SLOT}:data.delay.recovered`,
      recovery: { status: 'LATE', latenessSeconds: 4500, deliveredAt: '2024-01-15T09:15:00.000Z', expectedBy: '2024-01-15T08:00:00.000Z' },
    });
  });

  it('tells operators only of a validation failure, once, and partners of the delay it causes', async () => {
    await putRun(t.store, runRecordFor({ slot: SLOT, status: 'validation-failed', startedAt: '2024-01-15T06:05:00.000Z', message: 'check unique(id) failed' }));
    await watch('2024-01-15T06:30:00Z');
    await watch('2024-01-15T06:40:00Z');
    expect(ops.events.map((e) => [e.type, e.audience, 'error' in e ? e.error?.message : undefined])).toEqual([
      ['validation.failed', 'operators', 'check unique(id) failed'],
    ]);
    expect(partner.events).toEqual([]);
    await watch('2024-01-15T07:30:00Z');
    expect(partner.events.map((e) => [e.type, e.type === 'data.delay' ? e.delay.state : undefined])).toEqual([['data.delay', 'FAILED']]);
  });

  it('sends again on the next watch a notice that no target received', async () => {
    partner.fail = true;
    ops.fail = true;
    const out = await watch('2024-01-15T09:00:00Z');
    expect(out.notices[0].outcomes.map((o) => o.status)).toEqual(['failed', 'failed']);
    partner.fail = false;
    ops.fail = false;
    await watch('2024-01-15T09:05:00Z');
    await watch('2024-01-15T09:10:00Z');
    expect(partner.events.map((e) => e.id)).toEqual([`sla:daily:-:${SLOT}:data.delay.missed`]);
  });

  it('writes nothing and tells nobody when asked to report only', async () => {
    const out = await slaWatch(
      { ...input, at: '2024-01-15T09:00:00Z', notify: false },
      { store: t.store, clock: fixedClock('2024-01-15T09:00:00Z'), notifiers: { consumers: () => [partner], operators: [ops] } },
    );
    expect(out.slots[0].state).toBe('MISSED');
    expect(partner.events).toEqual([]);
    expect(await t.store.exists(`_sla/daily/slot=${SLOT}.json`)).toBe(false);
  });

  it('sends again a notice whose claim is older than 15 minutes (its sender died), but not a fresh claim', async () => {
    const key = `_sla/daily/slot=${SLOT}.json`;
    const claim = (claimedAt: string) =>
      JSON.stringify({
        version: 1,
        feed: 'daily',
        partner: null,
        slot: SLOT,
        state: 'MISSED',
        updatedAt: claimedAt,
        changes: [{ state: 'MISSED', at: claimedAt }],
        notices: [{ id: `sla:daily:-:${SLOT}:data.delay.missed`, type: 'data.delay', status: 'claimed', claimedAt }],
      });
    await t.store.put(key, claim('2024-01-15T08:55:00.000Z'));
    await watch('2024-01-15T09:00:00Z');
    expect(partner.events).toEqual([]);
    await t.store.delete(key);
    await t.store.put(key, claim('2024-01-15T08:40:00.000Z'));
    await watch('2024-01-15T09:00:00Z');
    expect(partner.events.map((e) => e.id)).toEqual([`sla:daily:-:${SLOT}:data.delay.missed`]);
  });
});
