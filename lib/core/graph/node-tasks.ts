import type { DeliveredRef } from '../steps/run-plan';
import { deliveredRefOf } from './delivered-ref';
import { repairAll, repairDelivered, RepairResult } from '../steps/repair';
import type { RunState } from '../steps/run-state';
import type { StepDeps } from '../steps/step-deps';
import { assertPublishable } from '../steps/validate';
import { GRAPH_ERRORS } from './step-graph';

/**
 * Work of graph nodes that is more than one step call, shared by the local interpreter and the
 * Lambda handlers so both paths do the same thing.
 */

export { deliveredRefOf };

/**
 * The `repair` node: a delivered slot finishes what its run left after the commit point
 * (pointer, record, notice), then any dead attempt at a newer revision of the slot (a crashed
 * rerun left files without a manifest) is recorded failed and its leftovers removed.
 */
export async function repairSlot(
  ref: DeliveredRef,
  deps: Pick<StepDeps, 'store' | 'clock' | 'feeds' | 'lease' | 'newAttemptId' | 'signer' | 'consumers'>,
): Promise<{ readonly delivered: RepairResult; readonly others: readonly RepairResult[] }> {
  const delivered = await repairDelivered(ref, deps);
  const others = await repairAll({ prefix: ref.prefix, feed: ref.feed, slot: { id: ref.slot, partner: ref.partner } }, deps);
  return { delivered, others: others.filter((r) => r.runId !== ref.runId) };
}

/** The error failRun records for a branch that is not an error (validate's `failed`): the failing checks named. */
export function branchError(error: { readonly name: string; readonly message: string }, state: Pick<RunState, 'plan' | 'validation'>) {
  if (error.name === GRAPH_ERRORS.validationFailed && state.validation) {
    try {
      assertPublishable(state.plan.feed, state.validation);
    } catch (e) {
      return { name: error.name, message: (e as Error).message };
    }
  }
  return error;
}
