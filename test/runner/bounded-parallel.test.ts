import { mapBounded } from '../../lib/runner/bounded-parallel';

/** A promise settled from outside: the test decides when each call ends, no timers. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('mapBounded', () => {
  it('runs up to the limit at once and returns results in the items order, whatever order they finish in', async () => {
    const gates = [0, 1, 2, 3].map(() => deferred<string>());
    const started: number[] = [];
    let inFlight = 0;
    let peak = 0;
    const done = mapBounded(['a', 'b', 'c', 'd'], 2, async (item, i) => {
      started.push(i);
      peak = Math.max(peak, ++inFlight);
      try {
        return `${item}:${await gates[i].promise}`;
      } finally {
        inFlight--;
      }
    });
    await settle();
    // Two calls overlap: both started before either finished; the third waits for a free slot.
    expect(started).toEqual([0, 1]);
    gates[1].resolve('1');
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[2].resolve('2');
    await settle();
    gates[3].resolve('3');
    gates[0].resolve('0');
    expect(await done).toEqual(['a:0', 'b:1', 'c:2', 'd:3']);
    expect(peak).toBe(2);
  });

  it('with a limit of 1 runs one at a time', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapBounded([1, 2, 3], 1, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await settle();
      inFlight--;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6]);
    expect(peak).toBe(1);
  });

  it('after a failure starts nothing new, lets the running call finish, then throws the first error', async () => {
    const gates = [0, 1, 2].map(() => deferred<number>());
    const started: number[] = [];
    const finished: number[] = [];
    const done = mapBounded([0, 1, 2], 2, async (i) => {
      started.push(i);
      const v = await gates[i].promise;
      finished.push(i);
      return v;
    });
    await settle();
    gates[0].reject(new Error('feed 0 broke'));
    await settle();
    gates[1].resolve(1);
    await expect(done).rejects.toThrow('feed 0 broke');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });

  it('refuses a limit that is not a positive whole number', async () => {
    await expect(mapBounded([1], 0, async (n) => n)).rejects.toThrow(/limit must be a positive whole number \(got 0\)/);
  });
});
