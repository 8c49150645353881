import { planStep } from '../lib/core/steps/begin';
import { formatsOf } from '../lib/core/steps/render';
import { repairDelivered } from '../lib/core/steps/repair';
import { requireField, stepHandler } from './handler-kit';
import { logger } from './observability';
import { runtime, LambdaDeps } from './runtime';
import type { PlanEvent } from './step-events';

/**
 * Plans a slot and takes its lease. `planned` carries the run state and the formats the render Map
 * iterates over; `already-delivered` finishes what a run that died after its commit point left
 * (as the local runner does); `busy` means another execution holds the slot, and nothing was done.
 */
export function makePlanHandler(
  deps: () => Promise<Pick<LambdaDeps, 'store' | 'clock' | 'feeds' | 'lease' | 'newAttemptId' | 'prefix' | 'signer' | 'consumers'>>,
) {
  return stepHandler(
    'plan',
    (e: PlanEvent) => ({ feed: e.feed, partner: e.partner }),
    async (event: PlanEvent) => {
      const feed = requireField<string>(event, 'feed');
      const d = await deps();
      const planned = await planStep({ feed, partner: event.partner ?? null, slot: event.slot, rerun: event.rerun }, d);
      // The run id is known from here on: the rest of the invocation's lines carry it too.
      logger.appendKeys({
        runId: planned.status === 'already-delivered' ? planned.delivered.runId : planned.status === 'busy' ? planned.plan.runId : planned.state.plan.runId,
      });
      if (planned.status === 'planned') return { status: planned.status, state: planned.state, formats: formatsOf(planned.state, d) };
      if (planned.status === 'busy') return { status: planned.status, runId: planned.plan.runId, slot: planned.plan.slot.id, holder: planned.holder };
      const repair = await repairDelivered(planned.delivered, d);
      return { status: planned.status, delivered: planned.delivered, repair };
    },
  );
}

export const handler = makePlanHandler(runtime);
