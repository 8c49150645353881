import { CronError } from './errors';
export { CronError };

/**
 * Standard 5-field cron (minute hour day-of-month month day-of-week), as feeds write it, and its
 * translation to the 6-field form EventBridge Scheduler wants. Pure: no clock, no time zone (see
 * slots.ts for reading a cron in a zone).
 */

export interface CronSpec {
  readonly source: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  /** 0 = Sunday .. 6 = Saturday (a 7 in the expression is stored as 0). */
  readonly daysOfWeek: readonly number[];
  /** The field is anything but a bare `*`: it then takes part in the either/or day rule. */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

/** Wall-clock fields a cron is matched against. */
export interface CronTimeParts {
  readonly minute: number;
  readonly hour: number;
  readonly day: number;
  readonly month: number;
  /** 0 = Sunday .. 6 = Saturday. */
  readonly weekday: number;
}

interface FieldDef {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Upper end of `*` and `a/n`: 6 for day-of-week, so `1/2` means MON,WED,FRI and not also 7 (= SUN). */
  readonly openMax: number;
  /** Names accepted instead of numbers; names[i] stands for min + i. */
  readonly names?: readonly string[];
  readonly fix: string;
}

const FIELDS: readonly FieldDef[] = [
  { name: 'minute', min: 0, max: 59, openMax: 59, fix: 'use minutes 0-59' },
  { name: 'hour', min: 0, max: 23, openMax: 23, fix: 'use hours 0-23' },
  { name: 'day-of-month', min: 1, max: 31, openMax: 31, fix: 'use days 1-31' },
  {
    name: 'month',
    min: 1,
    max: 12,
    openMax: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
    fix: 'use months 1-12 or JAN-DEC',
  },
  {
    name: 'day-of-week',
    min: 0,
    max: 7,
    openMax: 6,
    names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
    fix: 'use days of week 0-7 (0 and 7 are Sunday) or SUN-SAT',
  },
];

const FIELD_LIST = '5 fields: minute hour day-of-month month day-of-week';
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
/** Most days a month can have; February counts 29 so leap days stay possible. */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseCron(expr: string): CronSpec {
  const source = expr.trim();
  const parts = source === '' ? [] : source.split(/\s+/);
  if (parts.length !== 5) {
    const macro = MACROS[source.toLowerCase()];
    const fix = macro
      ? `write "${macro}" instead of ${source}`
      : /^cron\(/i.test(source) || parts.length === 6
        ? `write the standard ${FIELD_LIST} (no seconds or year field, no cron(...) wrapper), e.g. "0 6 * * *"`
        : `write ${FIELD_LIST}, e.g. "0 6 * * *"`;
    throw new CronError('expression', expr, `expected ${FIELD_LIST}, got ${parts.length}`, fix);
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((text, i) => parseField(FIELDS[i], text));
  const spec: CronSpec = {
    source,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    dayOfMonthRestricted: parts[2] !== '*',
    dayOfWeekRestricted: parts[4] !== '*',
  };
  // A day that no chosen month has (31 February) would make a feed that silently never runs.
  if (spec.dayOfMonthRestricted && !spec.dayOfWeekRestricted) {
    const possible = months.some((m) => daysOfMonth.some((d) => d <= MONTH_DAYS[m - 1]));
    if (!possible) {
      throw new CronError(
        'day-of-month',
        parts[2],
        `no such day in month ${parts[3]}, so the schedule would never run`,
        'choose days that exist in the chosen months (February has at most 29 days)',
      );
    }
  }
  return spec;
}

function parseField(def: FieldDef, text: string): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw new CronError(def.name, text, 'has an empty list item', `separate values with single commas, e.g. "1,15"; ${def.fix}`);
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined) throw new CronError(def.name, item, 'has more than one "/"', `write one step, e.g. "*/15"; ${def.fix}`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      [lo, hi] = [def.min, def.openMax];
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (more !== undefined || a === '' || b === '') throw new CronError(def.name, item, 'is not a range', `write a range as a-b, e.g. "1-5"; ${def.fix}`);
      [lo, hi] = [parseValue(def, a, item), parseValue(def, b, item)];
      if (lo > hi) {
        const fix =
          def.name === 'day-of-week'
            ? 'ranges cannot wrap around; for Friday to Sunday write "5-7" or "FRI,SAT,SUN"'
            : `ranges cannot wrap around; split it in two, e.g. "${a}-${def.max},${def.min}-${b}"`;
        throw new CronError(def.name, item, `range ${range} runs backwards`, fix);
      }
    } else {
      lo = parseValue(def, range, item);
      // `a/n` runs from a to the end of the field; a bare `a` is just a.
      hi = stepText === undefined ? lo : def.openMax;
    }
    let step = 1;
    if (stepText !== undefined) {
      const span = def.openMax - def.min;
      step = /^\d+$/.test(stepText) ? Number(stepText) : NaN;
      if (!(step >= 1 && step <= span)) {
        throw new CronError(def.name, item, `step "${stepText}" is not a whole number from 1 to ${span}`, `use a step from 1 to ${span}, e.g. "*/2"`);
      }
    }
    for (let v = lo; v <= hi; v += step) values.add(def.name === 'day-of-week' && v === 7 ? 0 : v);
  }
  return [...values].sort((a, b) => a - b);
}

function parseValue(def: FieldDef, atom: string, item: string): number {
  if (/^\d+$/.test(atom)) {
    const n = Number(atom);
    if (n < def.min || n > def.max) throw new CronError(def.name, atom, `${n} is out of range ${def.min}-${def.max}`, def.fix);
    return n;
  }
  const named = def.names?.indexOf(atom.toUpperCase()) ?? -1;
  if (named >= 0) return def.min + named;
  // Quartz/EventBridge extensions look like this; say so instead of a bare "not a number".
  if (/[?#]/.test(item) || /^(L|LW|\d*[LW]|L-\d+)$/i.test(atom)) {
    throw new CronError(
      def.name,
      item,
      'L, W, # and ? are Quartz/EventBridge extensions, not standard cron, and are not supported',
      `use * instead of ?, and list the days explicitly instead of L, W or #; ${def.fix}`,
    );
  }
  throw new CronError(def.name, atom, 'is not a number' + (def.names ? ' or a name' : ''), def.fix);
}

/** Standard cron day rule: if both day fields are restricted a day matches when EITHER does. */
export function dayMatches(spec: CronSpec, month: number, day: number, weekday: number): boolean {
  if (!spec.months.includes(month)) return false;
  const dom = spec.daysOfMonth.includes(day);
  const dow = spec.daysOfWeek.includes(weekday);
  if (spec.dayOfMonthRestricted && spec.dayOfWeekRestricted) return dom || dow;
  return dom && dow;
}

export function matches(spec: CronSpec, parts: CronTimeParts): boolean {
  return spec.minutes.includes(parts.minute) && spec.hours.includes(parts.hour) && dayMatches(spec, parts.month, parts.day, parts.weekday);
}

/**
 * The EventBridge Scheduler form `cron(min hour dom month dow year)`. Fields are written from the
 * parsed values (ranges and steps kept where EventBridge reads them the same way), so names and
 * 7-for-Sunday need no special handling. EventBridge wants exactly one of day-of-month and
 * day-of-week to be `?`, numbers its weekdays 1 (SUN) to 7 (SAT), and has no steps in day-of-week.
 */
export function toEventBridgeCron(spec: CronSpec): string {
  if (spec.dayOfMonthRestricted && spec.dayOfWeekRestricted) {
    const [, , dom, , dow] = spec.source.split(/\s+/);
    throw new CronError(
      'day-of-month/day-of-week',
      `${dom} ${dow}`,
      'both are restricted, which standard cron reads as "either matches" and EventBridge Scheduler cannot express',
      'restrict only one of them (set the other to *), or split the feed into two feeds',
    );
  }
  let dom = '*';
  let dow = '?';
  if (spec.dayOfMonthRestricted) dom = compact(spec.daysOfMonth, 1, 31, true);
  if (spec.dayOfWeekRestricted) {
    dom = '?';
    dow = compact(
      spec.daysOfWeek.map((d) => d + 1),
      1,
      7,
      false,
    );
  }
  const fields = [compact(spec.minutes, 0, 59, true), compact(spec.hours, 0, 23, true), dom, compact(spec.months, 1, 12, true), dow, '*'];
  return `cron(${fields.join(' ')})`;
}

/** Sorted distinct values as `*`, `a/n` (runs to the end of the field), or a list of numbers and `a-b` runs. */
function compact(values: readonly number[], min: number, max: number, steps: boolean): string {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === max - min + 1) return '*';
  const n = sorted.length;
  if (steps && n >= 3) {
    const step = sorted[1] - sorted[0];
    const regular = step > 1 && sorted.every((v, i) => v === sorted[0] + i * step);
    if (regular && sorted[n - 1] + step > max) return `${sorted[0]}/${step}`;
  }
  const out: string[] = [];
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(j - i >= 2 ? `${sorted[i]}-${sorted[j]}` : sorted.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return out.join(',');
}
