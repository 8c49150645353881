import { parseCron } from '../cron';
import type { FeedFile } from '../feed/feed-schema';
import { deadlineFor, missedAtFor, warnAtFor } from '../sla';
import { localParts, slotId, slotsBetween } from '../slots';

/** One drop that should exist: a slot of a feed, for one partner (per-partner feeds) or shared (null). */
export interface ExpectedSlot {
  readonly feed: string;
  readonly partner: string | null;
  /** Slot id, e.g. 20240115T060000Z. */
  readonly slot: string;
  readonly scheduledFor: string;
  /** The slot's local date in the feed's time zone (what calendar exceptions name). */
  readonly localDate: string;
  readonly timezone: string;
  readonly warnAt: string | null;
  readonly expectedBy: string;
  /** Deadline + grace: past this, an undelivered slot is MISSED. */
  readonly missedAt: string;
  /** Set when a calendar exception says no drop is due that date. */
  readonly exception: string | null;
  /** Set when the slot comes before the feed's start: nothing is due, and a drop is a backfill. */
  readonly beforeStart: string | null;
  /** Set when the feed counts a drop as delivered only once its destinations have it (sla.deliveredWhen). */
  readonly deliveredWhen?: 'destinations';
}

/** The part of a feed the watch needs: plain JSON, so a Lambda can receive it. */
export type WatchedFeed = Pick<FeedFile, 'name' | 'schedule' | 'sla' | 'delivery' | 'partners'> & {
  readonly start?: string;
  /** Whom partners can ask about a delay (the feed's owner). */
  readonly owner?: string;
  readonly calendar?: { readonly exceptDates: readonly string[] };
};

export interface SlotWindow {
  readonly from: Date;
  readonly to: Date;
}

function isoDate(p: { year: number; month: number; day: number }): string {
  return `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/**
 * Every slot of a feed with from <= slot <= to, times each partner of a per-partner feed, oldest
 * first, with its warn point, deadline and MISSED point. A slot whose local date is a calendar
 * exception (of the feed or of the project) is marked, not dropped, so it can show as NOT_EXPECTED.
 */
export function expectedSlots(feed: WatchedFeed, window: SlotWindow, projectExceptDates: readonly string[] = []): ExpectedSlot[] {
  const { cron, timezone } = feed.schedule;
  const except = new Set([...projectExceptDates, ...(feed.calendar?.exceptDates ?? [])]);
  const feedOwn = new Set(feed.calendar?.exceptDates ?? []);
  const partners = feed.delivery === 'per-partner' ? feed.partners.map((p) => p.id) : [null];
  const out: ExpectedSlot[] = [];
  for (const at of slotsBetween(parseCron(cron), timezone, window.from, window.to)) {
    const localDate = isoDate(localParts(timezone, at));
    const timing = {
      slot: slotId(at),
      scheduledFor: at.toISOString(),
      localDate,
      timezone,
      warnAt: warnAtFor(feed.sla, at)?.toISOString() ?? null,
      expectedBy: deadlineFor(feed.sla, at, timezone).toISOString(),
      missedAt: missedAtFor(feed.sla, at, timezone).toISOString(),
      exception: except.has(localDate) ? `${localDate} is a calendar exception of the ${feedOwn.has(localDate) ? 'feed' : 'project'}` : null,
      beforeStart: feed.start !== undefined && localDate < feed.start ? `before the feed's start (${feed.start})` : null,
      ...(feed.sla.deliveredWhen === 'destinations' ? { deliveredWhen: 'destinations' as const } : {}),
    };
    for (const partner of partners) out.push({ feed: feed.name, partner, ...timing });
  }
  return out;
}

/**
 * A feed without `start:` starts at the first slot the store records a run or drop of (per
 * partner): a feed first run today does not owe the slots of the months before. With no record at
 * all nothing is marked: a deployed feed that never ran is what the watch must report.
 */
export function markBeforeFirstRecord(expected: readonly ExpectedSlot[], firstRecorded: string | null): ExpectedSlot[] {
  if (firstRecorded === null) return [...expected];
  return expected.map((e) =>
    e.beforeStart === null && e.slot < firstRecorded
      ? { ...e, beforeStart: `before the feed's first recorded slot (${firstRecorded}); set start: in the feed to expect earlier slots` }
      : e,
  );
}
