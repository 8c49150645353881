import { CronSpec, parseCron } from '../../lib/core/cron';
import {
  dataInterval,
  isSlot,
  isValidTimeZone,
  latestSlotAtOrBefore,
  localParts,
  nextSlot,
  parseSlotArg,
  parseSlotId,
  previousSlot,
  resolveWallTime,
  slotId,
  slotsBetween,
} from '../../lib/core/slots';

/*
 * 2024 clock changes used below (all instants by hand, in UTC):
 * - Europe/Amsterdam: 2024-03-31 01:00Z, 02:00 CET (+1) jumps to 03:00 CEST (+2);
 *                     2024-10-27 01:00Z, 03:00 CEST (+2) falls back to 02:00 CET (+1).
 * - America/New_York: 2024-03-10 07:00Z, 02:00 EST (-5) jumps to 03:00 EDT (-4);
 *                     2024-11-03 06:00Z, 02:00 EDT (-4) falls back to 01:00 EST (-5).
 */
const AMS = 'Europe/Amsterdam';
const NYC = 'America/New_York';
const d = (iso: string) => new Date(iso);
const isos = (dates: Date[]) => dates.map((x) => x.toISOString());
const HOUR = 3_600_000;

describe('isValidTimeZone', () => {
  it('accepts IANA names and UTC', () => {
    expect(isValidTimeZone('Europe/Amsterdam')).toBe(true);
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
  });

  it('rejects unknown names, offsets, empty text and wrong casing', () => {
    expect(isValidTimeZone('Europe/Atlantis')).toBe(false);
    expect(isValidTimeZone('+01:00')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(isValidTimeZone('europe/amsterdam')).toBe(false);
  });
});

describe('nextSlot and previousSlot in UTC', () => {
  const daily = parseCron('0 6 * * *');

  it('finds the next tick strictly after the given instant', () => {
    expect(nextSlot(daily, 'UTC', d('2024-01-15T05:59:59.999Z')).toISOString()).toBe('2024-01-15T06:00:00.000Z');
    expect(nextSlot(daily, 'UTC', d('2024-01-15T06:00:00Z')).toISOString()).toBe('2024-01-16T06:00:00.000Z');
  });

  it('finds the previous tick strictly before the given instant', () => {
    expect(previousSlot(daily, 'UTC', d('2024-01-15T06:00:00Z')).toISOString()).toBe('2024-01-14T06:00:00.000Z');
    expect(previousSlot(daily, 'UTC', d('2024-01-15T06:00:00.001Z')).toISOString()).toBe('2024-01-15T06:00:00.000Z');
  });

  it('crosses month and year ends', () => {
    expect(nextSlot(daily, 'UTC', d('2024-12-31T07:00:00Z')).toISOString()).toBe('2025-01-01T06:00:00.000Z');
    expect(previousSlot(daily, 'UTC', d('2024-03-01T00:00:00Z')).toISOString()).toBe('2024-02-29T06:00:00.000Z');
  });

  it('walks a weekly cron by weeks (2024-01-15 is a Monday)', () => {
    const weekly = parseCron('0 6 * * MON');
    expect(nextSlot(weekly, 'UTC', d('2024-01-15T06:00:00Z')).toISOString()).toBe('2024-01-22T06:00:00.000Z');
    expect(previousSlot(weekly, 'UTC', d('2024-01-15T06:00:00Z')).toISOString()).toBe('2024-01-08T06:00:00.000Z');
  });

  it('reads day-of-week 7 as Sunday', () => {
    expect(nextSlot(parseCron('0 0 * * 7'), 'UTC', d('2024-01-15T00:00:00Z')).toISOString()).toBe('2024-01-21T00:00:00.000Z');
  });

  it('skips months without the day for a monthly cron on the 31st', () => {
    expect(nextSlot(parseCron('0 0 31 * *'), 'UTC', d('2024-01-31T00:00:00Z')).toISOString()).toBe('2024-03-31T00:00:00.000Z');
  });

  it('finds 29 February four years on, and eight years on across 2100, which is no leap year', () => {
    const leap = parseCron('0 0 29 2 *');
    expect(nextSlot(leap, 'UTC', d('2024-03-01T00:00:00Z')).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(previousSlot(leap, 'UTC', d('2024-02-29T00:00:00Z')).toISOString()).toBe('2020-02-29T00:00:00.000Z');
    expect(nextSlot(leap, 'UTC', d('2096-03-01T00:00:00Z')).toISOString()).toBe('2104-02-29T00:00:00.000Z');
  });

  it('fires when either restricted day field matches (the 13th or a Friday)', () => {
    const spec = parseCron('0 0 13 * FRI');
    // 2024-09-13 is a Friday the 13th; 2024-09-20 only a Friday; 2024-10-13 only the 13th (a Sunday).
    expect(nextSlot(spec, 'UTC', d('2024-09-09T00:00:00Z')).toISOString()).toBe('2024-09-13T00:00:00.000Z');
    expect(nextSlot(spec, 'UTC', d('2024-09-13T00:00:00Z')).toISOString()).toBe('2024-09-20T00:00:00.000Z');
    expect(nextSlot(spec, 'UTC', d('2024-10-11T00:00:00Z')).toISOString()).toBe('2024-10-13T00:00:00.000Z');
  });

  it('walks several ticks within a day in order', () => {
    const spec = parseCron('0,30 9-10 * * *');
    expect(isos(slotsBetween(spec, 'UTC', d('2024-01-15T00:00:00Z'), d('2024-01-15T23:59:00Z')))).toEqual([
      '2024-01-15T09:00:00.000Z',
      '2024-01-15T09:30:00.000Z',
      '2024-01-15T10:00:00.000Z',
      '2024-01-15T10:30:00.000Z',
    ]);
  });

  it('fails with a clear error when no tick exists within the search window', () => {
    // parseCron already refuses 31 February; a hand-made spec shows the search still ends.
    const never: CronSpec = { ...parseCron('0 0 1 2 *'), source: '0 0 31 2 *', daysOfMonth: [31] };
    expect(() => nextSlot(never, 'UTC', d('2024-01-01T00:00:00Z'))).toThrow(/no tick within 9 years after 2024-01-01.*never occurs/);
    expect(() => previousSlot(never, 'UTC', d('2024-01-01T00:00:00Z'))).toThrow(/no tick within 9 years before/);
  });

  it('rejects an unknown time zone and an invalid date', () => {
    expect(() => nextSlot(daily, 'Mars/Olympus', d('2024-01-01T00:00:00Z'))).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => nextSlot(daily, 'UTC', d('not a date'))).toThrow(/not a valid date/);
  });
});

describe('slots in Europe/Amsterdam across the 2024 clock changes', () => {
  const at0230 = parseCron('30 2 * * *');

  it('skips 02:30 on 2024-03-31, which does not exist when clocks spring forward', () => {
    // 2024-03-30 02:30 CET = 01:30Z; 2024-03-31 has no 02:30; 2024-04-01 02:30 CEST = 00:30Z.
    expect(isos(slotsBetween(at0230, AMS, d('2024-03-30T00:00:00Z'), d('2024-04-01T23:59:00Z')))).toEqual([
      '2024-03-30T01:30:00.000Z',
      '2024-04-01T00:30:00.000Z',
    ]);
    expect(nextSlot(at0230, AMS, d('2024-03-30T01:30:00Z')).toISOString()).toBe('2024-04-01T00:30:00.000Z');
    expect(previousSlot(at0230, AMS, d('2024-04-01T00:30:00Z')).toISOString()).toBe('2024-03-30T01:30:00.000Z');
  });

  it('ticks 02:30 once on 2024-10-27, at its first occurrence 00:30Z, when clocks fall back', () => {
    // 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET); only the first is a slot.
    expect(isos(slotsBetween(at0230, AMS, d('2024-10-26T00:00:00Z'), d('2024-10-28T23:59:00Z')))).toEqual([
      '2024-10-26T00:30:00.000Z',
      '2024-10-27T00:30:00.000Z',
      '2024-10-28T01:30:00.000Z',
    ]);
    expect(isSlot(at0230, AMS, d('2024-10-27T00:30:00Z'))).toBe(true);
    expect(isSlot(at0230, AMS, d('2024-10-27T01:30:00Z'))).toBe(false);
    expect(nextSlot(at0230, AMS, d('2024-10-27T00:30:00Z')).toISOString()).toBe('2024-10-28T01:30:00.000Z');
    // Asked from inside the second 02:00-03:00 hour, the next slot is still the next day's.
    expect(nextSlot(at0230, AMS, d('2024-10-27T01:15:00Z')).toISOString()).toBe('2024-10-28T01:30:00.000Z');
  });

  it('gives an hourly cron 23 ticks on the 23-hour spring-forward day, one hour apart in UTC', () => {
    // Local 2024-03-31 runs 2024-03-30T23:00Z .. 2024-03-31T21:59Z. Wall hours 00-23 except 02
    // (which does not exist) = 23 ticks; since the missing wall hour is also missing in real time,
    // the ticks are exactly one hour apart.
    const slots = slotsBetween(parseCron('0 * * * *'), AMS, d('2024-03-30T23:00:00Z'), d('2024-03-31T21:59:00Z'));
    expect(slots).toHaveLength(23);
    expect(slots[0].toISOString()).toBe('2024-03-30T23:00:00.000Z');
    expect(slots[1].toISOString()).toBe('2024-03-31T00:00:00.000Z'); // 01:00 CET
    expect(slots[2].toISOString()).toBe('2024-03-31T01:00:00.000Z'); // 03:00 CEST
    expect(slots[22].toISOString()).toBe('2024-03-31T21:00:00.000Z'); // 23:00 CEST
    expect(slots.slice(1).every((s, i) => s.getTime() - slots[i].getTime() === HOUR)).toBe(true);
  });

  it('gives an hourly cron 24 distinct ticks on the 25-hour fall-back day, none at 01:00Z', () => {
    // Local 2024-10-27 runs 2024-10-26T22:00Z .. 2024-10-27T22:59Z: 25 real hours but only 24
    // distinct wall hours (00-23). Wall 02:00 happens twice (00:00Z CEST and 01:00Z CET) and, as on
    // EventBridge, ticks only at the first, so there are 24 ticks and the UTC hour 01:00Z has none:
    // 00:00Z (02:00 CEST) is followed by 02:00Z (03:00 CET), two hours later.
    const slots = slotsBetween(parseCron('0 * * * *'), AMS, d('2024-10-26T22:00:00Z'), d('2024-10-27T22:59:00Z'));
    expect(slots).toHaveLength(24);
    expect(new Set(slots.map((s) => s.getTime())).size).toBe(24);
    expect(isos(slots.slice(1, 5))).toEqual([
      '2024-10-26T23:00:00.000Z', // 01:00 CEST
      '2024-10-27T00:00:00.000Z', // 02:00 CEST, the first 02:00
      '2024-10-27T02:00:00.000Z', // 03:00 CET
      '2024-10-27T03:00:00.000Z', // 04:00 CET
    ]);
    expect(isos(slots)).not.toContain('2024-10-27T01:00:00.000Z');
    expect(slots[23].toISOString()).toBe('2024-10-27T22:00:00.000Z'); // 23:00 CET
  });

  it('makes a daily data interval 23 hours long over spring forward and 25 hours over fall back', () => {
    const daily = parseCron('0 6 * * *');
    // 2024-03-31 06:00 CEST = 04:00Z, the previous tick 2024-03-30 06:00 CET = 05:00Z.
    const spring = dataInterval(daily, AMS, d('2024-03-31T04:00:00Z'));
    expect(spring.start.toISOString()).toBe('2024-03-30T05:00:00.000Z');
    expect(spring.end.toISOString()).toBe('2024-03-31T04:00:00.000Z');
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * HOUR);
    // 2024-10-27 06:00 CET = 05:00Z, the previous tick 2024-10-26 06:00 CEST = 04:00Z.
    const fall = dataInterval(daily, AMS, d('2024-10-27T05:00:00Z'));
    expect(fall.start.toISOString()).toBe('2024-10-26T04:00:00.000Z');
    expect(fall.end.getTime() - fall.start.getTime()).toBe(25 * HOUR);
  });

  it('makes a weekly data interval one hour short across spring forward', () => {
    const weekly = parseCron('0 9 * * 1');
    // Monday 2024-04-01 09:00 CEST = 07:00Z; Monday 2024-03-25 09:00 CET = 08:00Z.
    const interval = dataInterval(weekly, AMS, d('2024-04-01T07:00:00Z'));
    expect(interval.start.toISOString()).toBe('2024-03-25T08:00:00.000Z');
    expect(interval.end.getTime() - interval.start.getTime()).toBe(7 * 24 * HOUR - HOUR);
  });

  it('places a monthly slot at local midnight of the 1st, the evening before in UTC', () => {
    const monthly = parseCron('0 0 1 * *');
    // 2024-02-01 00:00 CET = 2024-01-31T23:00Z.
    expect(nextSlot(monthly, AMS, d('2024-01-15T00:00:00Z')).toISOString()).toBe('2024-01-31T23:00:00.000Z');
    // 2024-04-01 00:00 CEST = 2024-03-31T22:00Z covers March from 2024-03-01 00:00 CET = 2024-02-29T23:00Z.
    const march = dataInterval(monthly, AMS, d('2024-03-31T22:00:00Z'));
    expect(march.start.toISOString()).toBe('2024-02-29T23:00:00.000Z');
    expect(march.end.toISOString()).toBe('2024-03-31T22:00:00.000Z');
  });

  it('refuses the data interval of an instant that is not a slot', () => {
    expect(() => dataInterval(parseCron('0 6 * * *'), AMS, d('2024-03-31T06:00:00Z'))).toThrow(/is not a slot/);
  });
});

describe('slots in America/New_York across the 2024 clock changes', () => {
  it('skips 02:30 on 2024-03-10, which does not exist', () => {
    // 2024-03-09 02:30 EST = 07:30Z; 2024-03-11 02:30 EDT = 06:30Z.
    const spec = parseCron('30 2 * * *');
    expect(nextSlot(spec, NYC, d('2024-03-09T07:30:00Z')).toISOString()).toBe('2024-03-11T06:30:00.000Z');
  });

  it('ticks 01:30 once on 2024-11-03, at its first (EDT) occurrence', () => {
    // 01:30 EDT = 05:30Z, then 01:30 EST = 06:30Z again; the next day 01:30 EST = 06:30Z.
    const spec = parseCron('30 1 * * *');
    expect(isos(slotsBetween(spec, NYC, d('2024-11-02T00:00:00Z'), d('2024-11-04T23:59:00Z')))).toEqual([
      '2024-11-02T05:30:00.000Z',
      '2024-11-03T05:30:00.000Z',
      '2024-11-04T06:30:00.000Z',
    ]);
  });

  it('makes a daily data interval 23 and 25 hours long on the change days', () => {
    const daily = parseCron('0 6 * * *');
    // 2024-03-10 06:00 EDT = 10:00Z after 2024-03-09 06:00 EST = 11:00Z.
    const spring = dataInterval(daily, NYC, d('2024-03-10T10:00:00Z'));
    expect(spring.start.toISOString()).toBe('2024-03-09T11:00:00.000Z');
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * HOUR);
    // 2024-11-03 06:00 EST = 11:00Z after 2024-11-02 06:00 EDT = 10:00Z.
    const fall = dataInterval(daily, NYC, d('2024-11-03T11:00:00Z'));
    expect(fall.start.toISOString()).toBe('2024-11-02T10:00:00.000Z');
    expect(fall.end.getTime() - fall.start.getTime()).toBe(25 * HOUR);
  });
});

describe('previousSlot, nextSlot, latestSlotAtOrBefore and isSlot together', () => {
  const cases: [string, string][] = [
    ['0 * * * *', AMS],
    ['30 2 * * *', AMS],
    ['*/20 1-3 * * *', AMS],
    ['30 1 * * *', NYC],
    ['0 9 * * MON-FRI', NYC],
    ['15 0 1 * *', 'UTC'],
  ];

  it.each(cases)('steps back to where it came from for "%s" in %s around both clock changes', (expr, tz) => {
    const spec = parseCron(expr);
    for (const start of ['2024-03-09T00:00:00Z', '2024-03-30T00:00:00Z', '2024-10-26T00:00:00Z', '2024-11-02T00:00:00Z']) {
      // Every 17 minutes for two days: whatever the instant, the slots around it agree.
      for (let t = d(start).getTime(); t < d(start).getTime() + 48 * HOUR; t += 17 * 60_000) {
        const at = new Date(t);
        const next = nextSlot(spec, tz, at);
        const prev = previousSlot(spec, tz, next);
        expect(next.getTime()).toBeGreaterThan(t);
        expect(prev.getTime()).toBeLessThanOrEqual(t);
        expect(nextSlot(spec, tz, prev).getTime()).toBe(next.getTime());
        expect(latestSlotAtOrBefore(spec, tz, at).getTime()).toBe(prev.getTime());
        expect(isSlot(spec, tz, next)).toBe(true);
      }
    }
  });

  it('returns the instant itself from latestSlotAtOrBefore when it is a slot', () => {
    const daily = parseCron('0 6 * * *');
    expect(latestSlotAtOrBefore(daily, 'UTC', d('2024-01-15T06:00:00Z')).toISOString()).toBe('2024-01-15T06:00:00.000Z');
    expect(latestSlotAtOrBefore(daily, 'UTC', d('2024-01-15T05:59:59Z')).toISOString()).toBe('2024-01-14T06:00:00.000Z');
  });

  it('says an instant with seconds, or off the schedule, is not a slot', () => {
    const daily = parseCron('0 6 * * *');
    expect(isSlot(daily, 'UTC', d('2024-01-15T06:00:00Z'))).toBe(true);
    expect(isSlot(daily, 'UTC', d('2024-01-15T06:00:01Z'))).toBe(false);
    expect(isSlot(daily, 'UTC', d('2024-01-15T07:00:00Z'))).toBe(false);
    expect(isSlot(daily, AMS, d('2024-01-15T06:00:00Z'))).toBe(false); // 07:00 local
    expect(isSlot(daily, AMS, d('2024-01-15T05:00:00Z'))).toBe(true);
  });
});

describe('slotsBetween', () => {
  const everyMinute = parseCron('* * * * *');

  it('includes both ends', () => {
    expect(isos(slotsBetween(parseCron('0 6 * * *'), 'UTC', d('2024-01-15T06:00:00Z'), d('2024-01-17T06:00:00Z')))).toEqual([
      '2024-01-15T06:00:00.000Z',
      '2024-01-16T06:00:00.000Z',
      '2024-01-17T06:00:00.000Z',
    ]);
  });

  it('returns nothing for a range without ticks', () => {
    expect(slotsBetween(parseCron('0 6 * * MON'), 'UTC', d('2024-01-16T00:00:00Z'), d('2024-01-20T00:00:00Z'))).toEqual([]);
  });

  it('returns exactly 100000 slots but refuses one more', () => {
    // 2024-01-01T00:00Z + 99999 minutes = 2024-03-10T10:39Z (69 days = 99360 minutes, + 639).
    const slots = slotsBetween(everyMinute, 'UTC', d('2024-01-01T00:00:00Z'), d('2024-03-10T10:39:00Z'));
    expect(slots).toHaveLength(100000);
    expect(slots[99999].toISOString()).toBe('2024-03-10T10:39:00.000Z');
    expect(() => slotsBetween(everyMinute, 'UTC', d('2024-01-01T00:00:00Z'), d('2024-03-10T10:40:00Z'))).toThrow(/more than 100000 slots/);
  });

  it('lists decades of a yearly cron without walking minute by minute', () => {
    const yearly = slotsBetween(parseCron('0 0 29 2 *'), 'UTC', d('2000-01-01T00:00:00Z'), d('2104-12-31T00:00:00Z'));
    expect(yearly).toHaveLength(26); // 2000..2096 every 4 years (25), then 2104; 2100 is not a leap year
    expect(isos(yearly)).not.toContain('2100-02-29T00:00:00.000Z');
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => slotsBetween(everyMinute, 'UTC', d('2024-01-02T00:00:00Z'), d('2024-01-01T00:00:00Z'))).toThrow(/is after/);
  });
});

describe('resolveWallTime and localParts', () => {
  it('reports a spring-forward wall time as skipped, with the end of the gap', () => {
    expect(resolveWallTime(AMS, { year: 2024, month: 3, day: 31, hour: 2, minute: 30 })).toEqual({
      kind: 'skipped',
      gapEnd: d('2024-03-31T01:00:00Z'),
    });
    expect(resolveWallTime(NYC, { year: 2024, month: 3, day: 10, hour: 2, minute: 0 })).toEqual({
      kind: 'skipped',
      gapEnd: d('2024-03-10T07:00:00Z'),
    });
  });

  it('reports a fall-back wall time as ambiguous, earlier occurrence first', () => {
    expect(resolveWallTime(NYC, { year: 2024, month: 11, day: 3, hour: 1, minute: 30 })).toEqual({
      kind: 'ambiguous',
      first: d('2024-11-03T05:30:00Z'),
      second: d('2024-11-03T06:30:00Z'),
    });
  });

  it('reads an instant as local wall-clock fields', () => {
    expect(localParts(AMS, d('2024-10-27T01:30:00Z'))).toEqual({ year: 2024, month: 10, day: 27, hour: 2, minute: 30, weekday: 0 });
  });
});

describe('slot ids', () => {
  it('writes a slot as UTC basic ISO-8601 and reads it back', () => {
    const slot = d('2024-01-15T06:00:00Z');
    expect(slotId(slot)).toBe('20240115T060000Z');
    expect(parseSlotId('20240115T060000Z').toISOString()).toBe('2024-01-15T06:00:00.000Z');
    expect(parseSlotId(slotId(d('2024-10-27T00:30:00Z'))).getTime()).toBe(d('2024-10-27T00:30:00Z').getTime());
  });

  it('refuses fractions of a second, which an id could not carry back', () => {
    expect(() => slotId(d('2024-01-15T06:00:00.500Z'))).toThrow(/whole seconds/);
  });

  it.each(['', '2024-01-15T06:00:00Z', '20240115T0600Z', '20241315T060000Z', '20240230T000000Z', '20240115T250000Z', '20240115t060000z'])(
    'rejects the bad slot id "%s"',
    (id) => {
      expect(() => parseSlotId(id)).toThrow(/is not a slot id/);
    },
  );

  it('reads a slot argument given as ISO-8601 with Z or an offset, or as a slot id', () => {
    expect(parseSlotArg('2024-01-15T06:00:00Z').toISOString()).toBe('2024-01-15T06:00:00.000Z');
    expect(parseSlotArg('2024-01-15T07:00:00+01:00').toISOString()).toBe('2024-01-15T06:00:00.000Z');
    expect(parseSlotArg('2024-01-15T01:00-05:00').toISOString()).toBe('2024-01-15T06:00:00.000Z');
    expect(parseSlotArg(' 20240115T060000Z ').toISOString()).toBe('2024-01-15T06:00:00.000Z');
  });

  it.each(['2024-01-15T06:00:00', '2024-01-15', 'yesterday', '2024-13-15T06:00:00Z'])('rejects the slot argument "%s"', (text) => {
    expect(() => parseSlotArg(text)).toThrow(/is not a slot/);
  });
});
