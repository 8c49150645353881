import { parseCron } from './cron';
import { parseDurationSeconds } from './duration';
import type { SlaConfig } from './sla';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad = (n: number) => String(n).padStart(2, '0');

function list(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Consecutive runs shown as ranges: [1,2,3,4,5] → "Monday to Friday". */
function ranges(values: readonly number[], name: (n: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    out.push(j - i >= 2 ? `${name(values[i])} to ${name(values[j])}` : j > i ? `${name(values[i])}, ${name(values[j])}` : name(values[i]));
    i = j + 1;
  }
  return list(out);
}

function step(values: readonly number[], span: number): number | null {
  if (values.length < 2 || values[0] !== 0) return null;
  const d = values[1] - values[0];
  return values.every((v, i) => v === i * d) && values.length === Math.ceil(span / d) ? d : null;
}

/**
 * A cron in words, for the catalogue: "every day at 06:00", "Monday to Friday at 07:30 and
 * 19:30", "every 15 minutes", "on day 1 of the month at 00:00". Exact for the common shapes; any
 * other shape falls back to the cron text itself.
 */
export function scheduleInWords(cron: string): string {
  const c = parseCron(cron);
  let when: string;
  const everyMinutes = step(c.minutes, 60);
  if (c.hours.length === 24 && everyMinutes) when = everyMinutes === 1 ? 'every minute' : `every ${everyMinutes} minutes`;
  else if (c.hours.length === 24 && c.minutes.length <= 4) when = `every hour at minute ${list(c.minutes.map(String))}`;
  else if (c.hours.length * c.minutes.length <= 6) when = `at ${list(c.hours.flatMap((h) => c.minutes.map((m) => `${pad(h)}:${pad(m)}`)))}`;
  else return `cron ${c.source}`;
  const days: string[] = [];
  if (c.dayOfMonthRestricted) days.push(`on day ${ranges(c.daysOfMonth, String)} of the month`);
  if (c.dayOfWeekRestricted) days.push(`on ${ranges(c.daysOfWeek, (d) => WEEKDAYS[d])}`);
  if (c.months.length < 12) days.push(`in ${ranges(c.months, (m) => MONTHS[m - 1])}`);
  if (days.length === 0) return when.startsWith('every') ? when : `every day ${when}`;
  return `${days.join(', ')}, ${when}`;
}

function duration(text: string): string {
  const s = parseDurationSeconds(text) ?? 0;
  const parts = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ] as const;
  let rest = s;
  const out: string[] = [];
  for (const [size, unit] of parts) {
    if (rest >= size) {
      out.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return out.join(' ') || '0 s';
}

/** An SLA in words: "within 2 h of the slot, warn after 1 h, 30 min grace". */
export function slaInWords(sla: SlaConfig): string {
  const due = sla.deliverWithin !== undefined ? `within ${duration(sla.deliverWithin)} of the slot` : `by ${sla.deadline} local time`;
  const warn = sla.warnAfter ? `, at risk after ${duration(sla.warnAfter)}` : '';
  const grace = (parseDurationSeconds(sla.grace) ?? 0) > 0 ? `, missed ${duration(sla.grace)} after the deadline` : ', missed at the deadline';
  const where = sla.deliveredWhen === 'destinations' ? '; delivered when every destination has the drop' : '';
  return `${due}${warn}${grace}${where}`;
}
