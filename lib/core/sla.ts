import { parseDurationSeconds } from './duration';
import { localParts, resolveWallTime } from './slots';

/** A feed's SLA, as in the feed file: exactly one of deliverWithin and deadline. */
export interface SlaConfig {
  /** ISO-8601 duration after the slot, e.g. PT2H: elapsed time, so a DST change does not stretch it. */
  deliverWithin?: string;
  /** Local wall-clock time 'HH:MM' in the feed's time zone: the first at or after the slot. */
  deadline?: string;
  /** ISO-8601 duration after the slot at which a missing drop raises a warning. */
  warnAfter?: string;
  /** ISO-8601 duration after the deadline before a missing drop counts as MISSED. */
  grace: string;
  /** `destinations`: a drop counts as delivered when every destination has it (slot-state.ts), not when published. */
  deliveredWhen?: 'published' | 'destinations';
}

export interface SlaOutcome {
  status: 'MET' | 'LATE';
  latenessSeconds: number;
}

function seconds(text: string, field: string): number {
  const s = parseDurationSeconds(text);
  if (s === undefined) throw new Error(`sla.${field} "${text}" is not an ISO-8601 duration such as PT2H or P1D`);
  return s;
}

function plus(at: Date, secs: number): Date {
  return new Date(at.getTime() + secs * 1000);
}

/**
 * When the slot's drop is due. For a local `deadline` this is the first moment the clock in `tz`
 * shows HH:MM at or after the slot (the slot itself if it shows exactly HH:MM). DST:
 * - HH:MM inside a spring-forward gap (02:30 in Amsterdam on 2024-03-31) means the first instant
 *   after the gap (03:00 local): the day still has a deadline, as early as the clock allows;
 * - HH:MM that happens twice (fall back) means its first occurrence at or after the slot, the same
 *   reading EventBridge Scheduler gives a repeated local time.
 */
export function deadlineFor(sla: SlaConfig, slot: Date, tz: string): Date {
  if ((sla.deliverWithin === undefined) === (sla.deadline === undefined)) {
    throw new Error('sla needs exactly one of deliverWithin (a duration after the slot) or deadline (a local HH:MM time)');
  }
  if (sla.deliverWithin !== undefined) return plus(slot, seconds(sla.deliverWithin, 'deliverWithin'));

  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(sla.deadline ?? '');
  if (!m) throw new Error(`sla.deadline "${sla.deadline}" is not a local time HH:MM, e.g. 09:30`);
  const [hour, minute] = [Number(m[1]), Number(m[2])];
  const p = localParts(tz, slot);
  // Starting a day early covers a repeated hour that straddles local midnight; two days ahead
  // always reaches the next HH:MM.
  for (let offset = -1; offset <= 2; offset++) {
    const date = new Date(Date.UTC(p.year, p.month - 1, p.day + offset));
    const wall = resolveWallTime(tz, { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour, minute });
    const candidates = wall.kind === 'unique' ? [wall.at] : wall.kind === 'ambiguous' ? [wall.first, wall.second] : [wall.gapEnd];
    const found = candidates.find((c) => c.getTime() >= slot.getTime());
    if (found) return found;
  }
  throw new Error(`no ${sla.deadline} in ${tz} after ${slot.toISOString()}`); // unreachable: every day has one
}

export function warnAtFor(sla: SlaConfig, slot: Date): Date | null {
  return sla.warnAfter === undefined ? null : plus(slot, seconds(sla.warnAfter, 'warnAfter'));
}

/** When a slot without a delivered drop becomes MISSED: deadline + grace. */
export function missedAtFor(sla: SlaConfig, slot: Date, tz: string): Date {
  return plus(deadlineFor(sla, slot, tz), seconds(sla.grace, 'grace'));
}

/**
 * MET when delivered at or before expectedBy. Lateness is rounded UP to whole seconds, so a LATE
 * drop never reports 0 seconds and LATE <=> deliveredAt > expectedBy, as a reader of the manifest
 * would check it.
 */
export function slaOutcome(expectedBy: Date, deliveredAt: Date): SlaOutcome {
  const lateMs = deliveredAt.getTime() - expectedBy.getTime();
  if (Number.isNaN(lateMs)) throw new Error('slaOutcome needs two valid dates');
  return lateMs > 0 ? { status: 'LATE', latenessSeconds: Math.ceil(lateMs / 1000) } : { status: 'MET', latenessSeconds: 0 };
}
