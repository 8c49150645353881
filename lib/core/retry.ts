/**
 * The one retry policy for what the AWS SDKs do not retry themselves (webhooks, HTTP APIs, pulls,
 * S3's 409 on concurrent conditional writes, EventBridge entries that failed): exponential backoff
 * with jitter, a server's Retry-After honoured, and the wait injectable so tests never sleep.
 * Calls through an AWS SDK client retry inside the client (`AWS_RETRY` in the adapters).
 */

/** Waits `ms`. Tests hand in one that records instead of waiting. */
export type Sleep = (ms: number) => Promise<void>;

/** A real wait. */
export const sleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export interface Backoff {
  /** The wait before the first retry. */
  readonly baseMs: number;
  /** No wait is longer than this. @default - no cap */
  readonly maxMs?: number;
  /**
   * The share of each wait drawn at random, so that clients that failed together do not retry
   * together: 0 waits exactly, 0.5 between half and all of it, 1 anything up to it ("full jitter").
   * @default 0
   */
  readonly jitter?: number;
}

/** The wait before retry `retry` (1 = the first retry): baseMs·2^(retry−1), capped at maxMs, less its random share. */
export function backoffDelay(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  const full = Math.min(backoff.baseMs * 2 ** Math.max(0, retry - 1), backoff.maxMs ?? Infinity);
  const jitter = backoff.jitter ?? 0;
  return full * (1 - jitter + jitter * random());
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  /** Whether a failure is worth another attempt; anything else is thrown at once. */
  readonly retryable: (error: unknown) => boolean;
  /** A wait the other side asked for (Retry-After), used instead of the backoff. */
  readonly retryAfterMs?: (error: unknown) => number | undefined;
  readonly sleep?: Sleep;
  readonly random?: () => number;
}

/** Calls `attempt` (with its number, from 1) until it succeeds, fails for good, or the attempts are spent. */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= options.maxAttempts || !options.retryable(error)) throw error;
      await wait(options.retryAfterMs?.(error) ?? backoffDelay(n, options.backoff, options.random));
    }
  }
}
