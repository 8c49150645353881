import { DateTime, IANAZone } from 'luxon';
import { CronSpec, dayMatches, matches } from './cron';
import { UsageError } from './errors';
import { parseSlotId, SLOT_ID } from './layout';

/**
 * Slots: the ticks of a cron read in an IANA time zone. Daylight-saving rules follow EventBridge
 * Scheduler, so a slot planned here is a slot the deployed schedule fires:
 * - spring forward: a local time that does not exist that day is skipped (no tick);
 * - fall back: a local time that happens twice ticks once, at its first (earlier UTC) occurrence.
 * Consequence: local wall time -> instant is strictly increasing, so walking local days and then
 * the cron's hours and minutes in order yields slots in order.
 *
 * Wall-clock dates are handled as "wall ms": Date.UTC(y, m-1, d, h, min) of the local fields, so
 * calendar arithmetic never meets a time zone; only the zone's UTC offset connects them to instants.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Feb 29 can be 8 years apart (2096 -> 2104, as 2100 is no leap year): search a bit further. */
const MAX_SEARCH_DAYS = 9 * 366;
const MAX_SLOTS = 100_000;

const validZones = new Map<string, boolean>();

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string') return false;
  let valid = validZones.get(tz);
  if (valid === undefined) {
    // Intl takes any casing ("europe/amsterdam"); EventBridge Scheduler wants the name as spelled.
    const canonical = IANAZone.isValidZone(tz) ? new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone : '';
    valid = canonical !== '' && (canonical === tz || canonical.toLowerCase() !== tz.toLowerCase());
    validZones.set(tz, valid); // Intl is slow to ask; the answer never changes
  }
  return valid;
}

function zoneOf(tz: string): IANAZone {
  if (!isValidTimeZone(tz)) throw new UsageError(`unknown time zone "${tz}": use an IANA name such as "Europe/Amsterdam" or "UTC"`);
  return IANAZone.create(tz);
}

function ms(d: Date, what: string): number {
  const t = d instanceof Date ? d.getTime() : NaN;
  if (Number.isNaN(t)) throw new UsageError(`${what} is not a valid date`);
  return t;
}

/** Start (wall ms) of the local date an instant falls on. */
function wallDay(zone: IANAZone, t: number): number {
  return Math.floor((t + zone.offset(t) * MINUTE) / DAY) * DAY;
}

/** A zone's UTC offsets (minutes) around one local date, and the instant they change, if they do. */
interface DayOffsets {
  readonly early: number;
  readonly late: number;
  /** First instant on the `late` offset; NaN when early === late. */
  readonly change: number;
}

/**
 * Offsets are -12h..+14h, so every instant a wall time of `day` can name lies within a day either
 * side of it: the offsets at those two ends are the only candidates (zones change at most once in
 * that window). The change instant is found once per day by bisection, to the second.
 */
const offsetsCache = new Map<string, DayOffsets>();

function offsetsAround(zone: IANAZone, day: number): DayOffsets {
  // Asking the zone goes through Intl and is slow; what it says about a date never changes.
  const key = `${zone.name} ${day}`;
  let found = offsetsCache.get(key);
  if (!found) {
    if (offsetsCache.size >= 10_000) offsetsCache.clear();
    found = askOffsetsAround(zone, day);
    offsetsCache.set(key, found);
  }
  return found;
}

function askOffsetsAround(zone: IANAZone, day: number): DayOffsets {
  let lo = day - DAY;
  let hi = day + 2 * DAY;
  const early = zone.offset(lo);
  const late = zone.offset(hi);
  if (early === late) return { early, late, change: NaN };
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (zone.offset(mid) === late) hi = mid;
    else lo = mid;
  }
  return { early, late, change: hi };
}

/** Every instant a wall time names, ascending: one normally, none in a spring-forward gap, two in a fall-back overlap. */
function instantsOf(o: DayOffsets, wall: number): number[] {
  const onEarly = wall - o.early * MINUTE;
  if (o.early === o.late) return [onEarly];
  const onLate = wall - o.late * MINUTE;
  const out: number[] = [];
  if (onEarly < o.change) out.push(onEarly);
  if (onLate >= o.change) out.push(onLate);
  return out.sort((a, b) => a - b);
}

/** Ticks of one local date, ascending, with EventBridge's DST rules applied. */
function ticksOnDay(spec: CronSpec, zone: IANAZone, day: number): number[] {
  const date = new Date(day);
  if (!dayMatches(spec, date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCDay())) return [];
  const offsets = offsetsAround(zone, day);
  const out: number[] = [];
  for (const h of spec.hours) {
    for (const m of spec.minutes) {
      // Skipped if the wall time does not exist, its first occurrence if it exists twice.
      const first = instantsOf(offsets, day + (h * 60 + m) * MINUTE)[0];
      if (first !== undefined) out.push(first);
    }
  }
  return out;
}

function noTick(spec: CronSpec, tz: string, direction: string, t: number): UsageError {
  return new UsageError(
    `cron "${spec.source}" in ${tz} has no tick within ${MAX_SEARCH_DAYS / 366} years ${direction} ${new Date(t).toISOString()}: ` +
      'it names a date that never occurs (such as 31 February); fix the schedule',
  );
}

/** The first slot strictly after `after`. */
export function nextSlot(spec: CronSpec, tz: string, after: Date): Date {
  const zone = zoneOf(tz);
  const t = ms(after, 'after');
  // Start a day early: cheap, and safe for zones whose clocks change at midnight.
  let day = wallDay(zone, t) - DAY;
  for (let i = 0; i < MAX_SEARCH_DAYS; i++, day += DAY) {
    for (const at of ticksOnDay(spec, zone, day)) if (at > t) return new Date(at);
  }
  throw noTick(spec, tz, 'after', t);
}

/** The last slot strictly before `before`. */
export function previousSlot(spec: CronSpec, tz: string, before: Date): Date {
  const zone = zoneOf(tz);
  const t = ms(before, 'before');
  let day = wallDay(zone, t) + DAY;
  for (let i = 0; i < MAX_SEARCH_DAYS; i++, day -= DAY) {
    const ticks = ticksOnDay(spec, zone, day);
    for (let k = ticks.length - 1; k >= 0; k--) if (ticks[k] < t) return new Date(ticks[k]);
  }
  throw noTick(spec, tz, 'before', t);
}

export function latestSlotAtOrBefore(spec: CronSpec, tz: string, at: Date): Date {
  return previousSlot(spec, tz, new Date(ms(at, 'at') + 1));
}

export function isSlot(spec: CronSpec, tz: string, at: Date): boolean {
  const zone = zoneOf(tz);
  const t = ms(at, 'at');
  if (t % MINUTE !== 0) return false;
  const p = localParts(tz, at);
  if (!matches(spec, p)) return false;
  // The second pass through a repeated hour is not a tick: only the first occurrence is.
  const day = Date.UTC(p.year, p.month - 1, p.day);
  return instantsOf(offsetsAround(zone, day), day + (p.hour * 60 + p.minute) * MINUTE)[0] === t;
}

/** Slots with from <= slot <= to, ascending. Throws beyond 100000 slots. */
export function slotsBetween(spec: CronSpec, tz: string, from: Date, to: Date): Date[] {
  const zone = zoneOf(tz);
  const [f, t] = [ms(from, 'from'), ms(to, 'to')];
  if (f > t) throw new UsageError(`from ${from.toISOString()} is after to ${to.toISOString()}`);
  const out: Date[] = [];
  const lastDay = wallDay(zone, t) + DAY;
  for (let day = wallDay(zone, f) - DAY; day <= lastDay; day += DAY) {
    for (const at of ticksOnDay(spec, zone, day)) {
      if (at < f || at > t) continue;
      if (out.length === MAX_SLOTS) {
        throw new UsageError(`more than ${MAX_SLOTS} slots of "${spec.source}" between ${from.toISOString()} and ${to.toISOString()}: ask for a shorter range`);
      }
      out.push(new Date(at));
    }
  }
  return out;
}

/** The period a slot covers: from the previous tick up to the slot. */
export function dataInterval(spec: CronSpec, tz: string, slot: Date): { start: Date; end: Date } {
  const end = new Date(ms(slot, 'slot'));
  if (!isSlot(spec, tz, end)) throw new UsageError(`${end.toISOString()} is not a slot of cron "${spec.source}" in ${tz}`);
  return { start: previousSlot(spec, tz, end), end };
}

/** Wall-clock fields of an instant in a zone (weekday 0 = Sunday). */
export function localParts(tz: string, at: Date): { year: number; month: number; day: number; hour: number; minute: number; weekday: number } {
  const zone = zoneOf(tz);
  const t = ms(at, 'at');
  const w = new Date(t + zone.offset(t) * MINUTE);
  return {
    year: w.getUTCFullYear(),
    month: w.getUTCMonth() + 1,
    day: w.getUTCDate(),
    hour: w.getUTCHours(),
    minute: w.getUTCMinutes(),
    weekday: w.getUTCDay(),
  };
}

export type WallTime =
  | { readonly kind: 'unique'; readonly at: Date }
  | { readonly kind: 'ambiguous'; readonly first: Date; readonly second: Date }
  /** The wall time falls in a spring-forward gap; `gapEnd` is the first instant after it. */
  | { readonly kind: 'skipped'; readonly gapEnd: Date };

/** What a local wall time means in a zone, DST included. */
export function resolveWallTime(tz: string, wall: { year: number; month: number; day: number; hour: number; minute: number }): WallTime {
  const zone = zoneOf(tz);
  const day = Date.UTC(wall.year, wall.month - 1, wall.day);
  const offsets = offsetsAround(zone, day);
  const found = instantsOf(offsets, day + (wall.hour * 60 + wall.minute) * MINUTE);
  if (found.length === 2) return { kind: 'ambiguous', first: new Date(found[0]), second: new Date(found[1]) };
  if (found.length === 1) return { kind: 'unique', at: new Date(found[0]) };
  return { kind: 'skipped', gapEnd: new Date(offsets.change) };
}

// The slot id (its format is part of the store layout) is built and parsed in layout.ts.
export { parseSlotId, slotId } from './layout';

/** A slot given on the command line: ISO-8601 with Z or an offset, or a slot id. */
export function parseSlotArg(text: string): Date {
  const s = text.trim();
  if (SLOT_ID.test(s)) return parseSlotId(s);
  // Without an offset the instant would depend on the machine's zone: refuse rather than guess.
  if (/T.*(Z|[+-]\d{2}(:?\d{2})?)$/i.test(s)) {
    const d = DateTime.fromISO(s, { setZone: true });
    if (d.isValid) return d.toJSDate();
  }
  throw new UsageError(
    `"${text}" is not a slot: give an ISO-8601 time with Z or an offset (2024-01-15T06:00:00Z, 2024-01-15T07:00+01:00) or a slot id (20240115T060000Z)`,
  );
}
