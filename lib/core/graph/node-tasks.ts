import type { DeliveredRef } from '../steps/run-plan';
import { deliveredRefOf } from './delivered-ref';
import { repairAll, repairDelivered, RepairResult } from '../steps/repair';
import type { RunState } from '../steps/run-state';
import type { StepDeps } from '../steps/step-deps';
import { assertPublishable } from '../steps/validate';
import { GRAPH_ERRORS } from './step-graph';
import { destinationSpecs } from '../destinations/plans';
import { deliveredToDestinations } from '../destinations/push-drop';

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
  // The graph's pushRepaired node has pushed already: the repair itself does not push again.
  const noPush = { ...deps, push: undefined };
  const delivered = await repairDelivered(ref, noPush);
  const others = await repairAll({ prefix: ref.prefix, feed: ref.feed, slot: { id: ref.slot, partner: ref.partner } }, noPush);
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

/** What a push node hands on: small (the state machine passes it along); the full records are in the run record. */
export interface PushSummary {
  /** `pushed`: every destination has the drop (or the feed has none); `incomplete`: some failed, see `failed`. */
  readonly status: 'pushed' | 'incomplete';
  readonly destinations: number;
  /** `name: first error` of each destination that failed. */
  readonly failed: readonly string[];
}

/**
 * A push node (push, pushRecovered, pushRepaired): every destination of the drop's feed and
 * partner, resumed from their records (a destination that has the drop is not contacted again).
 * `attemptId`: the attempt holding the slot's lease (push, pushRecovered), renewed while pushing;
 * losing it ends the push `incomplete`, its destinations pending.
 * Throws only when it cannot try (an edge without a push, the feed unknown); a destination that
 * fails is an `incomplete` outcome, which the graph turns into an operator alert.
 */
export async function pushDelivered(ref: DeliveredRef, deps: Pick<StepDeps, 'feeds' | 'push' | 'lease'>, attemptId?: string): Promise<PushSummary> {
  const feed = deps.feeds.get(ref.feed);
  const specs = destinationSpecs(feed.spec, ref.partner);
  if (specs.length === 0) return { status: 'pushed', destinations: 0, failed: [] };
  if (!deps.push) throw new Error(`feed ${ref.feed} has destinations (${specs.map((s) => s.name).join(', ')}), and this edge was built without a push`);
  // The attempt that published (or recovered) still holds the slot: the push keeps it while it works.
  const records = await deps.push(ref, feed, attemptId ? { attemptId, ttlSeconds: deps.lease.ttlSeconds } : undefined);
  const failed = records.filter((r) => r.status === 'failed').map((r) => `${r.destination}: ${r.errors[0]?.message ?? 'failed'}`);
  return { status: deliveredToDestinations(records) ? 'pushed' : 'incomplete', destinations: records.length, failed };
}
