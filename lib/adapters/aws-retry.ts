/**
 * How every AWS SDK client the adapters and handlers build retries: inside the client, which knows
 * each service's throttling and transient errors (Athena's TooManyRequestsException, S3's SlowDown,
 * 5xx) and, in adaptive mode, slows its own sending while throttled. Spread first into a client's
 * config, so a caller's `clientConfig` still decides. What the SDK does not retry goes through
 * `retry` in lib/core/retry.ts.
 */
export const AWS_RETRY = { maxAttempts: 8, retryMode: 'adaptive' } as const;
