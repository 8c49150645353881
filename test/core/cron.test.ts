import { CronError, matches, parseCron, toEventBridgeCron } from '../../lib/core/cron';

function cronError(expr: string): CronError {
  try {
    toEventBridgeCron(parseCron(expr));
  } catch (e) {
    expect(e).toBeInstanceOf(CronError);
    return e as CronError;
  }
  throw new Error(`expected "${expr}" to be rejected`);
}

describe('parseCron', () => {
  it('reads a daily expression into one value per field and full ranges for *', () => {
    const spec = parseCron('0 6 * * *');
    expect(spec.source).toBe('0 6 * * *');
    expect(spec.minutes).toEqual([0]);
    expect(spec.hours).toEqual([6]);
    expect(spec.daysOfMonth).toHaveLength(31);
    expect(spec.months).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(spec.daysOfWeek).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(spec.dayOfMonthRestricted).toBe(false);
    expect(spec.dayOfWeekRestricted).toBe(false);
  });

  it('tolerates extra whitespace and keeps the trimmed source', () => {
    const spec = parseCron('  0   6\t* *  *  ');
    expect(spec.source).toBe('0   6\t* *  *');
    expect(spec.hours).toEqual([6]);
  });

  it('reads lists, ranges and mixes of both, sorted and without duplicates', () => {
    expect(parseCron('5,1,2-4,3 * * * *').minutes).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('0 9-17 * * *').hours).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
  });

  it('reads */n, a-b/n and a/n steps', () => {
    expect(parseCron('*/15 * * * *').minutes).toEqual([0, 15, 30, 45]);
    expect(parseCron('10-20/5 * * * *').minutes).toEqual([10, 15, 20]);
    expect(parseCron('5/20 * * * *').minutes).toEqual([5, 25, 45]);
    expect(parseCron('0 */6 * * *').hours).toEqual([0, 6, 12, 18]);
    expect(parseCron('0 0 */10 * *').daysOfMonth).toEqual([1, 11, 21, 31]);
  });

  it('reads month names case-insensitively, alone, in lists and in ranges', () => {
    expect(parseCron('0 0 1 JAN,mar-May *').months).toEqual([1, 3, 4, 5]);
    expect(parseCron('0 0 1 dec *').months).toEqual([12]);
  });

  it('reads weekday names case-insensitively and treats both 0 and 7 as Sunday', () => {
    expect(parseCron('0 0 * * MON-FRI').daysOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('0 0 * * sun').daysOfWeek).toEqual([0]);
    expect(parseCron('0 0 * * 7').daysOfWeek).toEqual([0]);
    expect(parseCron('0 0 * * 0,7,SUN').daysOfWeek).toEqual([0]);
    expect(parseCron('0 0 * * 5-7').daysOfWeek).toEqual([0, 5, 6]);
    expect(parseCron('0 0 * * 0-7').daysOfWeek).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('runs open day-of-week steps to Saturday, so 1/2 does not add Sunday', () => {
    expect(parseCron('0 0 * * 1/2').daysOfWeek).toEqual([1, 3, 5]);
    expect(parseCron('0 0 * * */2').daysOfWeek).toEqual([0, 2, 4, 6]);
  });

  it('marks a day field restricted unless it is a bare *', () => {
    expect(parseCron('0 0 1 * *').dayOfMonthRestricted).toBe(true);
    expect(parseCron('0 0 1 * *').dayOfWeekRestricted).toBe(false);
    expect(parseCron('0 0 * * 1').dayOfWeekRestricted).toBe(true);
    expect(parseCron('0 0 */2 * *').dayOfMonthRestricted).toBe(true);
  });

  it('rejects a day-of-week of 8 naming the field, the value and the fix', () => {
    const e = cronError('0 6 * * 8');
    expect(e.name).toBe('CronError');
    expect(e.field).toBe('day-of-week');
    expect(e.value).toBe('8');
    expect(e.fix).toMatch(/0-7/);
    expect(e.message).toContain('day-of-week');
    expect(e.message).toContain('"8"');
    expect(e.message).toContain(e.fix);
  });

  it.each([
    ['60 * * * *', 'minute', '60'],
    ['0 24 * * *', 'hour', '24'],
    ['0 0 0 * *', 'day-of-month', '0'],
    ['0 0 32 * *', 'day-of-month', '32'],
    ['0 0 1 13 *', 'month', '13'],
    ['0 0 1 MON *', 'month', 'MON'],
    ['0 0 * * JAN', 'day-of-week', 'JAN'],
    ['x 0 * * *', 'minute', 'x'],
    ['-1 0 * * *', 'minute', '-1'],
  ])('rejects "%s" naming the %s and the value %s', (expr, field, value) => {
    const e = cronError(expr);
    expect(e.field).toBe(field);
    expect(e.value).toBe(value);
    expect(e.message).toContain(field);
    expect(e.fix.length).toBeGreaterThan(0);
  });

  it.each([
    ['0 0 L * *', 'day-of-month'],
    ['0 0 15W * *', 'day-of-month'],
    ['0 0 LW * *', 'day-of-month'],
    ['0 0 ? * 1', 'day-of-month'],
    ['0 0 * * 5L', 'day-of-week'],
    ['0 0 * * 5#2', 'day-of-week'],
    ['0 0 * * ?', 'day-of-week'],
  ])('rejects the Quartz extension in "%s" saying L, W, # and ? are not supported', (expr, field) => {
    const e = cronError(expr);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(/L, W, # and \? .*not supported/);
  });

  it('rejects the wrong number of fields, listing the 5 fields', () => {
    for (const expr of ['0 6 * *', '0 0 6 * * *', '', 'cron(0 6 * * ? *)']) {
      const e = cronError(expr);
      expect(e.field).toBe('expression');
      expect(e.message).toContain('5 fields: minute hour day-of-month month day-of-week');
    }
  });

  it('suggests the 5-field form for an @daily style macro', () => {
    expect(cronError('@daily').fix).toContain('0 0 * * *');
  });

  it('rejects a range that runs backwards, with a fix that splits it', () => {
    const e = cronError('0 22-2 * * *');
    expect(e.field).toBe('hour');
    expect(e.value).toBe('22-2');
    expect(e.fix).toContain('22-23,0-2');
    expect(cronError('0 0 * * FRI-SUN').fix).toContain('5-7');
  });

  it('rejects steps of 0, steps wider than the field and steps that are not numbers', () => {
    expect(cronError('*/0 * * * *').value).toBe('*/0');
    expect(cronError('*/60 * * * *').fix).toContain('1 to 59');
    expect(cronError('0 */x * * *').field).toBe('hour');
    expect(cronError('1/2/3 * * * *').field).toBe('minute');
  });

  it('rejects empty list items', () => {
    expect(cronError('1,,2 * * * *').value).toBe('1,,2');
  });

  it('rejects a day of month that none of the chosen months has', () => {
    const e = cronError('0 0 31 2 *');
    expect(e.field).toBe('day-of-month');
    expect(e.message).toMatch(/never run/);
    expect(cronError('0 0 31 APR,JUN *').field).toBe('day-of-month');
  });

  it('accepts 29 February and 31 in a list where one month has it', () => {
    expect(parseCron('0 0 29 2 *').daysOfMonth).toEqual([29]);
    expect(parseCron('0 0 31 2,3 *').months).toEqual([2, 3]);
  });
});

describe('matches', () => {
  const at = (minute: number, hour: number, day: number, month: number, weekday: number) => ({ minute, hour, day, month, weekday });

  it('matches every field of a daily weekday cron', () => {
    const spec = parseCron('30 6 * * 1-5');
    expect(matches(spec, at(30, 6, 15, 1, 1))).toBe(true);
    expect(matches(spec, at(31, 6, 15, 1, 1))).toBe(false);
    expect(matches(spec, at(30, 7, 15, 1, 1))).toBe(false);
    expect(matches(spec, at(30, 6, 14, 1, 0))).toBe(false);
  });

  it('matches a day when either restricted day field matches', () => {
    const spec = parseCron('0 0 13 * 5');
    expect(matches(spec, at(0, 0, 13, 10, 0))).toBe(true); // 13th, a Sunday
    expect(matches(spec, at(0, 0, 20, 9, 5))).toBe(true); // a Friday, not the 13th
    expect(matches(spec, at(0, 0, 14, 9, 6))).toBe(false);
  });

  it('uses only day-of-month when day-of-week is *', () => {
    const spec = parseCron('0 0 1 * *');
    expect(matches(spec, at(0, 0, 1, 5, 3))).toBe(true);
    expect(matches(spec, at(0, 0, 2, 5, 4))).toBe(false);
  });

  it('checks the month', () => {
    expect(matches(parseCron('0 0 1 JAN *'), at(0, 0, 1, 2, 4))).toBe(false);
  });
});

describe('toEventBridgeCron', () => {
  const eb = (expr: string) => toEventBridgeCron(parseCron(expr));

  it('turns a daily cron into the 6-field form with ? for day-of-week', () => {
    expect(eb('0 6 * * *')).toBe('cron(0 6 * * ? *)');
  });

  it('shifts weekdays to EventBridge numbering (1 = SUN) and puts ? in day-of-month', () => {
    expect(eb('0 6 * * 1-5')).toBe('cron(0 6 ? * 2-6 *)');
    expect(eb('0 6 * * MON-FRI')).toBe('cron(0 6 ? * 2-6 *)');
    expect(eb('0 6 * * 0')).toBe('cron(0 6 ? * 1 *)');
    expect(eb('0 6 * * 7')).toBe('cron(0 6 ? * 1 *)');
    expect(eb('0 6 * * SAT')).toBe('cron(0 6 ? * 7 *)');
  });

  it('writes a weekend or Friday-to-Sunday range as a list, never a wrapping range', () => {
    expect(eb('0 6 * * SAT,SUN')).toBe('cron(0 6 ? * 1,7 *)');
    expect(eb('0 6 * * 5-7')).toBe('cron(0 6 ? * 1,6,7 *)');
    expect(eb('0 6 * * 4-7')).toBe('cron(0 6 ? * 1,5-7 *)');
  });

  it('expands day-of-week steps, which EventBridge does not take, into a list', () => {
    expect(eb('0 6 * * 1-5/2')).toBe('cron(0 6 ? * 2,4,6 *)');
  });

  it('writes an all-days day-of-week as * with ? in day-of-month', () => {
    expect(eb('0 6 * * 0-6')).toBe('cron(0 6 ? * * *)');
  });

  it('keeps minute and hour steps as a/n and ranges as a-b', () => {
    expect(eb('*/15 * * * *')).toBe('cron(0/15 * * * ? *)');
    expect(eb('5/20 9-17 * * *')).toBe('cron(5/20 9-17 * * ? *)');
    expect(eb('0,30 8,12,18 * * *')).toBe('cron(0,30 8,12,18 * * ? *)');
  });

  it('keeps a restricted day-of-month and numbers months', () => {
    expect(eb('0 6 1,15 * *')).toBe('cron(0 6 1,15 * ? *)');
    expect(eb('0 6 1 JAN-MAR *')).toBe('cron(0 6 1 1-3 ? *)');
    expect(eb('0 0 31 * *')).toBe('cron(0 0 31 * ? *)');
  });

  it('rejects both day fields restricted, since EventBridge cannot say "either"', () => {
    const e = cronError('0 6 1 * MON');
    expect(e.field).toBe('day-of-month/day-of-week');
    expect(e.value).toBe('1 MON');
    expect(e.fix).toMatch(/restrict only one of them/);
    expect(e.fix).toMatch(/split the feed into two/);
  });
});
