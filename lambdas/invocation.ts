/** The part of the Lambda context the handlers use (Powertools' logger takes the whole of it). */
export interface LambdaContextLike {
  readonly awsRequestId: string;
  readonly functionName?: string;
  getRemainingTimeInMillis(): number;
}

/** Time kept back from a Lambda's remaining time for what follows a wait: stopping a query, logging, answering. */
export const WAIT_MARGIN_MS = 20_000;

let deadline: number | undefined;

/** Marks the start of an invocation: its waits end `WAIT_MARGIN_MS` before the function's timeout. */
export function beginInvocation(context: LambdaContextLike | undefined, now = Date.now()): void {
  deadline = context ? now + context.getRemainingTimeInMillis() - WAIT_MARGIN_MS : undefined;
}

/** How long a wait inside this invocation may still take (undefined outside Lambda: no bound). */
export function waitTimeLeftMs(now = Date.now()): number | undefined {
  return deadline === undefined ? undefined : Math.max(0, deadline - now);
}
