import { pushDelivered, type PushSummary } from '../lib/core/graph/node-tasks';
import type { DeliveredRef } from '../lib/core/steps/run-plan';
import type { StepDeps } from '../lib/core/steps/step-deps';
import { buildPushDeps } from './deployed-push';
import { once, requireField, stepHandler } from './handler-kit';
import type { PushEvent } from './step-events';

/**
 * The step graph's push nodes on AWS: the delivered drop to every destination of its feed and
 * partner, resumed from their records. Returns a small summary (the state machine branches on its
 * `status`); a destination that fails is `incomplete` (an operator alert), never a thrown error.
 * With the event's `attemptId` the push renews that attempt's lease as it goes (no process keeps
 * it alive in the background on AWS) and stops, `incomplete`, once another attempt owns the slot.
 */
export function makePushHandler(deps: () => Promise<Pick<StepDeps, 'feeds' | 'push' | 'lease'>>) {
  return stepHandler(
    'push',
    (e: PushEvent) => ({ feed: e.ref?.feed, runId: e.ref?.runId, partner: e.ref?.partner }),
    async (event: PushEvent): Promise<PushSummary> => pushDelivered(requireField<DeliveredRef>(event, 'ref'), await deps(), event.attemptId),
  );
}

/** This container's deps (built on first use): the store, the feeds and the deployed destinations, no notifier. */
const runtime = once(async () => buildPushDeps());

export const handler = makePushHandler(runtime);
