import { backoffDelay, retry } from '../../lib/core/retry';

describe('backoffDelay', () => {
  it('doubles from the base, stops at the cap, and draws its jitter share at random', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, { baseMs: 100 }))).toEqual([100, 200, 400, 800]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, { baseMs: 100, maxMs: 250 }))).toEqual([100, 200, 250, 250]);
    // Half jitter: between half and all of the wait; full jitter: anything up to it.
    expect([0, 1].map((r) => backoffDelay(3, { baseMs: 100, jitter: 0.5 }, () => r))).toEqual([200, 400]);
    expect([0, 0.25].map((r) => backoffDelay(3, { baseMs: 100, jitter: 1 }, () => r))).toEqual([0, 100]);
  });
});

describe('retry', () => {
  const transient = Object.assign(new Error('busy'), { transient: true });
  const waits: number[] = [];
  const options = {
    maxAttempts: 4,
    backoff: { baseMs: 10 },
    retryable: (e: unknown) => (e as { transient?: boolean }).transient === true,
    sleep: async (ms: number) => void waits.push(ms),
  };
  beforeEach(() => (waits.length = 0));

  it('tries again after each backoff until the call succeeds', async () => {
    const seen: number[] = [];
    const got = await retry(async (n) => {
      seen.push(n);
      if (n < 3) throw transient;
      return 'ok';
    }, options);
    expect([got, seen, waits]).toEqual(['ok', [1, 2, 3], [10, 20]]);
  });

  it('passes on a failure that is not worth another attempt at once', async () => {
    const fatal = new Error('refused');
    await expect(retry(() => Promise.reject(fatal), options)).rejects.toBe(fatal);
    expect(waits).toEqual([]);
  });

  it('passes on the last failure once the attempts are spent', async () => {
    await expect(retry(() => Promise.reject(transient), options)).rejects.toBe(transient);
    expect(waits).toEqual([10, 20, 40]);
  });

  it('waits what the other side asked for (Retry-After) instead of the backoff', async () => {
    let n = 0;
    await retry(
      async () => {
        if (n++ === 0) throw transient;
      },
      { ...options, retryAfterMs: () => 2000 },
    );
    expect(waits).toEqual([2000]);
  });
});
