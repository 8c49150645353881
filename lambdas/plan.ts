import { planStep } from '../lib/core/steps/plan-step';
import { formatsOf } from '../lib/core/steps/render';
import { repairSlot } from '../lib/core/graph/node-tasks';
import type { DeliveredRef } from '../lib/core/steps/run-plan';
import { requireField, stepHandler } from './handler-kit';
import { logger } from './observability';
import { runtime, LambdaDeps } from './runtime';
import type { PlanEvent, RepairEvent } from './step-events';

/**
 * Plans a slot and takes its lease. `planned` carries the run state and the formats the render Map
 * iterates over; `already-delivered` carries the delivered run (the graph's repair node follows);
 * `busy` means another execution holds the slot, and nothing was done. The same function serves
 * the repair node (`{ repair: ref }`): it has the grants repair needs.
 */
export function makePlanHandler(
  deps: () => Promise<Pick<LambdaDeps, 'store' | 'clock' | 'feeds' | 'lease' | 'newAttemptId' | 'prefix' | 'signer' | 'consumers'>>,
) {
  return stepHandler(
    'plan',
    (e: PlanEvent | RepairEvent) =>
      'repair' in e ? { feed: e.repair?.feed, runId: e.repair?.runId, partner: e.repair?.partner } : { feed: e.feed, partner: e.partner },
    async (event: PlanEvent | RepairEvent) => {
      if ('repair' in event) {
        const ref = requireField<DeliveredRef>(event, 'repair');
        const repaired = await repairSlot(ref, await deps());
        return { delivered: repaired.delivered, others: repaired.others.map((r) => ({ runId: r.runId, action: r.action })) };
      }
      const feed = requireField<string>(event, 'feed');
      const d = await deps();
      const planned = await planStep({ feed, partner: event.partner ?? null, slot: event.slot, rerun: event.rerun }, d);
      // The run id is known from here on: the rest of the invocation's lines carry it too.
      logger.appendKeys({
        runId: planned.status === 'already-delivered' ? planned.delivered.runId : planned.status === 'busy' ? planned.plan.runId : planned.state.plan.runId,
      });
      if (planned.status === 'planned') return { status: planned.status, state: planned.state, formats: formatsOf(planned.state, d) };
      if (planned.status === 'busy') return { status: planned.status, runId: planned.plan.runId, slot: planned.plan.slot.id, holder: planned.holder };
      return { status: planned.status, delivered: planned.delivered };
    },
  );
}

export const handler = makePlanHandler(runtime);
