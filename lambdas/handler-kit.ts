import { beginInvocation, LambdaContextLike } from './invocation';
import { logger } from './observability';

/** What every step event carries so that each log line names the feed and the run. */
export interface RunKeys {
  readonly feed?: string;
  readonly runId?: string;
  readonly partner?: string | null;
}

/**
 * Wraps a step: the request id, feed and run id on every log line of the invocation (metrics are
 * single-metric sets, flushed as they are added), every wait bounded by the function's remaining
 * time, and any error logged and rethrown as it is, so Step Functions' Retry/Catch match it by its name.
 */
export function stepHandler<E, R>(
  step: string,
  keysOf: (event: E) => RunKeys,
  run: (event: E) => Promise<R>,
): (event: E, context?: LambdaContextLike) => Promise<R> {
  return async (event: E, context?: LambdaContextLike) => {
    logger.resetKeys();
    beginInvocation(context);
    if (context) logger.addContext(context as Parameters<typeof logger.addContext>[0]);
    const keys = safeKeys(keysOf, event);
    logger.appendKeys({ step, feed: keys.feed, runId: keys.runId, partner: keys.partner ?? undefined });
    logger.info(`${step} started`);
    try {
      const result = await run(event);
      logger.info(`${step} finished`);
      return result;
    } catch (error) {
      logger.error(`${step} failed`, error as Error);
      throw error;
    }
  };
}

function safeKeys<E>(keysOf: (event: E) => RunKeys, event: E): RunKeys {
  try {
    return keysOf(event);
  } catch {
    return {};
  }
}

/** Memoizes an async factory per container; a failed build is retried on the next invocation. */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** A step event's shape is ours to check: a wrong one fails with a name Step Functions does not retry. */
export class BadEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadEventError';
  }
}

export function requireField<T>(event: unknown, field: string): T {
  const value = (event as Record<string, unknown> | null | undefined)?.[field];
  if (value === undefined) throw new BadEventError(`the event has no "${field}"; got keys: ${Object.keys((event as object) ?? {}).join(', ') || 'none'}`);
  return value as T;
}
