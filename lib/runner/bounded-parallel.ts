/**
 * Calls `fn` on every item with at most `limit` calls in flight, and returns the results in the
 * items' order (not the order they finish): `run --all` prints one line per feed in a stable order.
 * A call that throws stops new calls from starting; the ones already running finish, then the
 * first error is thrown (as the sequential loop did, less the calls already under way).
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`mapBounded: limit must be a positive whole number (got ${limit})`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.error;
  return results;
}
