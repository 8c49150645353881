import type { ObjectStore } from '../ports/object-store';
import { slotId } from '../slots';
import { evidenceOf, firstRecordedSlot, readSlotEvidence, unscheduledDeliveredSlots } from './delivery-evidence';
import { ExpectedSlot, expectedSlots, markBeforeFirstRecord, WatchedFeed } from './expected-slots';
import { slotState, SlotStatus } from './slot-state';
import type { DropCoordinates } from '../layout';

export interface DeliveryRecordRequest {
  readonly feed: WatchedFeed;
  readonly prefix: string;
  readonly from: Date;
  readonly to: Date;
  /** The time states are judged at (a slot not delivered by then is AT_RISK, MISSED…). */
  readonly now: Date;
  readonly exceptDates?: readonly string[];
  /** Only this partner (per-partner feeds). */
  readonly partner?: string;
  /** Keep only the newest N slots (per partner) of the range. */
  readonly newest?: number;
}

/**
 * The delivery record of a feed: one row per slot (and partner) of a range, oldest first, with its
 * deadline, delivery time, lateness, state, rows, validation and revision. Reads only; tells nobody.
 */
export async function deliveryRecord(request: DeliveryRecordRequest, store: ObjectStore): Promise<SlotStatus[]> {
  const to = request.to.getTime() < request.now.getTime() ? request.to : request.now;
  if (to.getTime() < request.from.getTime()) return [];
  let expected = expectedSlots(request.feed, { from: request.from, to }, request.exceptDates ?? []);
  if (request.partner !== undefined) expected = expected.filter((e) => e.partner === request.partner);
  const out: SlotStatus[] = [];
  for (const partner of [...new Set(expected.map((e) => e.partner))]) {
    const c = { prefix: request.prefix, feed: request.feed.name, partner };
    let mine = expected.filter((e) => e.partner === partner);
    if (request.feed.start === undefined) mine = markBeforeFirstRecord(mine, await firstRecordedSlot(store, c));
    if (request.newest !== undefined) mine = mine.slice(-request.newest);
    const evidence = await readSlotEvidence(
      store,
      c,
      mine.map((e) => e.slot),
    );
    for (const e of mine) {
      const status = slotState(e, evidenceOf(evidence, e.slot), request.now);
      // Before the start nothing was owed: only a backfilled drop is worth a row.
      if (!(e.beforeStart && status.state === 'NOT_EXPECTED')) out.push(status);
    }
    // A changed schedule or time zone must not orphan what was delivered under the old one.
    if (request.newest === undefined) out.push(...(await earlierSchedule(store, c, request.from, to, new Set(mine.map((e) => e.slot)), request.now)));
  }
  return out.sort((a, b) => a.slot.localeCompare(b.slot) || (a.partner ?? '').localeCompare(b.partner ?? ''));
}

/** Rows for drops delivered under an earlier schedule: their own manifests say when they were due. */
async function earlierSchedule(store: ObjectStore, c: DropCoordinates, from: Date, to: Date, expected: ReadonlySet<string>, now: Date): Promise<SlotStatus[]> {
  const slots = await unscheduledDeliveredSlots(store, c, slotId(from), slotId(to), expected);
  if (slots.length === 0) return [];
  const evidence = await readSlotEvidence(store, c, slots);
  return slots.flatMap((slot) => {
    const first = evidenceOf(evidence, slot).manifests[0]?.manifest;
    if (!first) return [];
    const e: ExpectedSlot = {
      feed: c.feed,
      partner: c.partner,
      slot,
      scheduledFor: first.slot.scheduledFor,
      localDate: first.slot.scheduledFor.slice(0, 10),
      timezone: first.slot.timezone,
      warnAt: first.sla.warnAt,
      expectedBy: first.sla.expectedBy,
      missedAt: first.sla.expectedBy,
      exception: null,
      beforeStart: null,
    };
    const status = slotState(e, evidenceOf(evidence, slot), now);
    return [{ ...status, detail: `${status.detail} (an earlier schedule: cron "${first.slot.cron}" in ${first.slot.timezone})` }];
  });
}
