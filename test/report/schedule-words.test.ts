import { scheduleInWords, slaInWords } from '../../lib/core/schedule-words';

describe('schedules and SLAs in words', () => {
  it.each([
    ['0 6 * * *', 'every day at 06:00'],
    ['30 7,19 * * 1-5', 'on Monday to Friday, at 07:30 and 19:30'],
    ['*/15 * * * *', 'every 15 minutes'],
    ['5 * * * *', 'every hour at minute 5'],
    ['0 0 1 * *', 'on day 1 of the month, at 00:00'],
    ['0 23 29-31 1,7 *', 'on day 29 to 31 of the month, in January and July, at 23:00'],
    ['0 1,3,5,7,9,11,13 * * *', 'cron 0 1,3,5,7,9,11,13 * * *'],
  ])('reads %s as "%s"', (cron, words) => {
    expect(scheduleInWords(cron)).toBe(words);
  });

  it('reads both kinds of deadline, the warn point and the grace', () => {
    expect(slaInWords({ deliverWithin: 'PT2H', warnAfter: 'PT1H30M', grace: 'PT30M' })).toBe(
      'within 2 h of the slot, at risk after 1 h 30 min, missed 30 min after the deadline',
    );
    expect(slaInWords({ deadline: '08:00', grace: 'PT0S' })).toBe('by 08:00 local time, missed at the deadline');
  });
});
