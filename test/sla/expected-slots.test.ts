import { expectedSlots, WatchedFeed } from '../../lib/core/sla-watch/expected-slots';

const amsterdam = (cron: string, sla: WatchedFeed['sla']): WatchedFeed => ({
  name: 'ams',
  schedule: { cron, timezone: 'Europe/Amsterdam' },
  sla,
  delivery: 'shared',
  partners: [],
});

describe('expected slots', () => {
  it('skip a local time that the spring change removes and keep one slot for the repeated autumn hour', () => {
    const feed = amsterdam('30 2 * * *', { deadline: '08:00', grace: 'PT0S' });
    const spring = expectedSlots(feed, { from: new Date('2024-03-30T00:00:00Z'), to: new Date('2024-04-01T23:00:00Z') });
    expect(spring.map((s) => s.scheduledFor)).toEqual(['2024-03-30T01:30:00.000Z', '2024-04-01T00:30:00.000Z']);
    // 08:00 local is 07:00Z before the change and 06:00Z after it.
    expect(spring.map((s) => s.expectedBy)).toEqual(['2024-03-30T07:00:00.000Z', '2024-04-01T06:00:00.000Z']);
    const autumn = expectedSlots(feed, { from: new Date('2024-10-26T12:00:00Z'), to: new Date('2024-10-27T12:00:00Z') });
    expect(autumn.map((s) => [s.scheduledFor, s.localDate])).toEqual([['2024-10-27T00:30:00.000Z', '2024-10-27']]);
    expect(autumn[0].expectedBy).toBe('2024-10-27T07:00:00.000Z');
  });

  it('keep a duration SLA in elapsed time across the change, and add grace to find the MISSED point', () => {
    const feed = amsterdam('0 1 * * *', { deliverWithin: 'PT3H', warnAfter: 'PT2H', grace: 'PT1H' });
    const [slot] = expectedSlots(feed, { from: new Date('2024-03-31T00:00:00Z'), to: new Date('2024-03-31T00:00:00Z') });
    expect(slot).toMatchObject({
      scheduledFor: '2024-03-31T00:00:00.000Z',
      warnAt: '2024-03-31T02:00:00.000Z',
      expectedBy: '2024-03-31T03:00:00.000Z',
      missedAt: '2024-03-31T04:00:00.000Z',
    });
  });

  it('walk month ends: the 29th to 31st exist only in the months that have them, Feb 29 in a leap year', () => {
    const feed: WatchedFeed = {
      name: 'm',
      schedule: { cron: '0 23 29-31 * *', timezone: 'UTC' },
      sla: { deadline: '09:00', grace: 'PT0S' },
      delivery: 'shared',
      partners: [],
    };
    const slots = expectedSlots(feed, { from: new Date('2024-01-30T00:00:00Z'), to: new Date('2024-05-01T00:00:00Z') });
    expect(slots.map((s) => s.localDate)).toEqual([
      '2024-01-30',
      '2024-01-31',
      '2024-02-29',
      '2024-03-29',
      '2024-03-30',
      '2024-03-31',
      '2024-04-29',
      '2024-04-30',
    ]);
    // A local deadline before the slot's time of day falls on the next day, here the next month.
    expect(slots[1].expectedBy).toBe('2024-02-01T09:00:00.000Z');
    expect(slots[7].expectedBy).toBe('2024-05-01T09:00:00.000Z');
  });

  it('name the local date of a slot, not its UTC date, on a zone far from UTC', () => {
    const feed: WatchedFeed = {
      name: 'tokyo',
      schedule: { cron: '0 1 * * *', timezone: 'Asia/Tokyo' },
      sla: { deliverWithin: 'PT1H', grace: 'PT0S' },
      delivery: 'shared',
      partners: [],
      calendar: { exceptDates: ['2024-01-01'] },
    };
    const [slot] = expectedSlots(feed, { from: new Date('2023-12-31T15:00:00Z'), to: new Date('2023-12-31T17:00:00Z') });
    expect(slot).toMatchObject({ slot: '20231231T160000Z', localDate: '2024-01-01', exception: '2024-01-01 is a calendar exception of the feed' });
  });

  it('give one expected drop per partner of a per-partner feed, and mark project exceptions', () => {
    const feed: WatchedFeed = {
      name: 'pp',
      schedule: { cron: '0 6 * * *', timezone: 'UTC' },
      sla: { deliverWithin: 'PT1H', grace: 'PT0S' },
      delivery: 'per-partner',
      partners: [{ id: 'acme' }, { id: 'globex' }],
    };
    const slots = expectedSlots(feed, { from: new Date('2024-12-24T00:00:00Z'), to: new Date('2024-12-25T12:00:00Z') }, ['2024-12-25']);
    expect(slots.map((s) => `${s.slot} ${s.partner} ${s.exception ?? ''}`)).toEqual([
      '20241224T060000Z acme ',
      '20241224T060000Z globex ',
      '20241225T060000Z acme 2024-12-25 is a calendar exception of the project',
      '20241225T060000Z globex 2024-12-25 is a calendar exception of the project',
    ]);
  });
});
