import { deadlineFor, missedAtFor, slaOutcome, warnAtFor } from '../../lib/core/sla';

/*
 * Clock changes of 2024 used below (by hand, in UTC):
 * - Europe/Amsterdam: 2024-03-31 01:00Z (02:00 CET -> 03:00 CEST); 2024-10-27 01:00Z (03:00 CEST -> 02:00 CET).
 * - America/New_York: 2024-03-10 07:00Z (02:00 EST -> 03:00 EDT); 2024-11-03 06:00Z (02:00 EDT -> 01:00 EST).
 */
const AMS = 'Europe/Amsterdam';
const NYC = 'America/New_York';
const d = (iso: string) => new Date(iso);
const iso = (x: Date | null) => x?.toISOString();

describe('deadlineFor with deliverWithin', () => {
  it('adds the duration to the slot', () => {
    expect(iso(deadlineFor({ deliverWithin: 'PT2H', grace: 'PT0S' }, d('2024-01-15T06:00:00Z'), 'UTC'))).toBe('2024-01-15T08:00:00.000Z');
    expect(iso(deadlineFor({ deliverWithin: 'P1DT30M', grace: 'PT0S' }, d('2024-01-15T06:00:00Z'), 'UTC'))).toBe('2024-01-16T06:30:00.000Z');
  });

  it('counts elapsed time, not wall-clock time, across spring forward', () => {
    // Slot at local 00:00 CET (2024-03-30T23:00Z); 3 real hours later the clock shows 04:00 CEST.
    expect(iso(deadlineFor({ deliverWithin: 'PT3H', grace: 'PT0S' }, d('2024-03-30T23:00:00Z'), AMS))).toBe('2024-03-31T02:00:00.000Z');
  });

  it('rejects a duration it cannot read', () => {
    expect(() => deadlineFor({ deliverWithin: 'P1M', grace: 'PT0S' }, d('2024-01-15T06:00:00Z'), 'UTC')).toThrow(/sla.deliverWithin "P1M"/);
  });
});

describe('deadlineFor with a local deadline', () => {
  const at = (deadline: string, slot: string, tz: string) => iso(deadlineFor({ deadline, grace: 'PT0S' }, d(slot), tz));

  it('takes the same local day when the time is still ahead, on both sides of spring forward', () => {
    // Slot 06:00 CET = 05:00Z, deadline 09:30 CET = 08:30Z.
    expect(at('09:30', '2024-03-30T05:00:00Z', AMS)).toBe('2024-03-30T08:30:00.000Z');
    // Slot 06:00 CEST = 04:00Z, deadline 09:30 CEST = 07:30Z.
    expect(at('09:30', '2024-03-31T04:00:00Z', AMS)).toBe('2024-03-31T07:30:00.000Z');
  });

  it('takes the next local day when the time has passed, 24 real hours apart across fall back', () => {
    // Slot Saturday 06:00 CEST = 2024-10-26T04:00Z; deadline Sunday 05:00 CET = 2024-10-27T04:00Z.
    expect(at('05:00', '2024-10-26T04:00:00Z', AMS)).toBe('2024-10-27T04:00:00.000Z');
  });

  it('is the slot itself when the slot is at exactly that local time', () => {
    // 09:30 CET = 08:30Z.
    expect(at('09:30', '2024-01-15T08:30:00Z', AMS)).toBe('2024-01-15T08:30:00.000Z');
  });

  it('moves a deadline inside the spring-forward gap to the end of the gap (02:30 -> 03:00 CEST)', () => {
    // Slot 00:00 CET on 2024-03-31 = 2024-03-30T23:00Z. 02:30 does not exist; 03:00 CEST = 01:00Z.
    expect(at('02:30', '2024-03-30T23:00:00Z', AMS)).toBe('2024-03-31T01:00:00.000Z');
    // Slot 03:10 CEST = 01:10Z is past the gap: the next 02:30 is 2024-04-01 02:30 CEST = 00:30Z.
    expect(at('02:30', '2024-03-31T01:10:00Z', AMS)).toBe('2024-04-01T00:30:00.000Z');
  });

  it('takes the first occurrence at or after the slot of a time that happens twice', () => {
    // Slot 00:00 CEST on 2024-10-27 = 2024-10-26T22:00Z: 02:30 is first at 00:30Z (CEST).
    expect(at('02:30', '2024-10-26T22:00:00Z', AMS)).toBe('2024-10-27T00:30:00.000Z');
    // Slot 02:45 CEST = 00:45Z, after the first 02:30: the second one, 02:30 CET = 01:30Z.
    expect(at('02:30', '2024-10-27T00:45:00Z', AMS)).toBe('2024-10-27T01:30:00.000Z');
  });

  it('reads the deadline in New York time on both change days', () => {
    // Slot 00:00 EST = 2024-03-10T05:00Z; 08:00 EDT = 12:00Z.
    expect(at('08:00', '2024-03-10T05:00:00Z', NYC)).toBe('2024-03-10T12:00:00.000Z');
    // Slot 00:00 EDT = 2024-11-03T04:00Z; 08:00 EST = 13:00Z.
    expect(at('08:00', '2024-11-03T04:00:00Z', NYC)).toBe('2024-11-03T13:00:00.000Z');
  });

  it('rejects a deadline that is not HH:MM', () => {
    expect(() => at('9:30', '2024-01-15T06:00:00Z', AMS)).toThrow(/HH:MM/);
    expect(() => at('24:00', '2024-01-15T06:00:00Z', AMS)).toThrow(/HH:MM/);
  });

  it('needs exactly one of deliverWithin and deadline', () => {
    expect(() => deadlineFor({ grace: 'PT0S' }, d('2024-01-15T06:00:00Z'), 'UTC')).toThrow(/exactly one/);
    expect(() => deadlineFor({ deliverWithin: 'PT1H', deadline: '09:00', grace: 'PT0S' }, d('2024-01-15T06:00:00Z'), 'UTC')).toThrow(/exactly one/);
  });
});

describe('warnAtFor', () => {
  it('adds warnAfter to the slot', () => {
    expect(iso(warnAtFor({ deliverWithin: 'PT2H', warnAfter: 'PT1H30M', grace: 'PT0S' }, d('2024-01-15T06:00:00Z')))).toBe('2024-01-15T07:30:00.000Z');
  });

  it('is null without warnAfter', () => {
    expect(warnAtFor({ deliverWithin: 'PT2H', grace: 'PT0S' }, d('2024-01-15T06:00:00Z'))).toBeNull();
  });
});

describe('missedAtFor', () => {
  it('adds the grace to a local deadline', () => {
    // Deadline 09:30 CEST = 07:30Z, plus 30 minutes.
    expect(iso(missedAtFor({ deadline: '09:30', grace: 'PT30M' }, d('2024-03-31T04:00:00Z'), AMS))).toBe('2024-03-31T08:00:00.000Z');
  });

  it('is the deadline itself with zero grace', () => {
    expect(iso(missedAtFor({ deliverWithin: 'PT2H', grace: 'PT0S' }, d('2024-01-15T06:00:00Z'), 'UTC'))).toBe('2024-01-15T08:00:00.000Z');
  });

  it('rejects a grace it cannot read', () => {
    expect(() => missedAtFor({ deliverWithin: 'PT2H', grace: '30m' }, d('2024-01-15T06:00:00Z'), 'UTC')).toThrow(/sla.grace "30m"/);
  });
});

describe('slaOutcome', () => {
  const expectedBy = d('2024-01-15T08:00:00Z');

  it('is MET when delivered before or exactly at the deadline', () => {
    expect(slaOutcome(expectedBy, d('2024-01-15T07:59:59Z'))).toEqual({ status: 'MET', latenessSeconds: 0 });
    expect(slaOutcome(expectedBy, d('2024-01-15T08:00:00Z'))).toEqual({ status: 'MET', latenessSeconds: 0 });
  });

  it('is LATE with the lateness in seconds when delivered after it', () => {
    expect(slaOutcome(expectedBy, d('2024-01-15T08:01:30Z'))).toEqual({ status: 'LATE', latenessSeconds: 90 });
    expect(slaOutcome(expectedBy, d('2024-01-16T08:00:00Z'))).toEqual({ status: 'LATE', latenessSeconds: 86400 });
  });

  it('rounds a fraction of a second late up, so LATE never reports 0 seconds', () => {
    expect(slaOutcome(expectedBy, d('2024-01-15T08:00:00.200Z'))).toEqual({ status: 'LATE', latenessSeconds: 1 });
  });
});
