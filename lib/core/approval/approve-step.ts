import { renewLease } from '../lease';
import type { RunState } from '../steps/run-state';
import type { StepDeps } from '../steps/step-deps';
import { ApprovalState, approvalKey, decideHold, HELD, readHold } from './approval';
import { assessApproval, holdDrop } from './hold';

/**
 * The approve node's task, the same on both paths: decides whether the drop needs sign-off and,
 * if so, holds it (the slot's lease extended to the deadline, the hold recorded, the approvers
 * told). Returns the state with `approval` (and the extended lease). The caller must not renew the
 * lease meanwhile.
 */
export async function approveStep(state: RunState, deps: Pick<StepDeps, 'store' | 'feeds' | 'clock' | 'operators'>): Promise<RunState> {
  const approval = await assessApproval(state, deps);
  if (approval.outcome !== HELD) return { ...state, approval };
  // Held: the attempt keeps the slot until the deadline, so another run of it touches nothing.
  const lease = await renewLease(deps.store, state.lease, deps.clock.now(), approval.timeoutSeconds!);
  const held: RunState = { ...state, approval, lease };
  await holdDrop(held, deps);
  return held;
}

/** On AWS: keeps the task token the execution waits with beside the hold, for the broker's approver API. */
export async function keepTaskToken(state: RunState, taskToken: string, deps: Pick<StepDeps, 'store'>): Promise<void> {
  const { plan } = state;
  const key = approvalKey({ prefix: plan.prefix, feed: plan.feed, partner: plan.partner }, plan.slot.id);
  const held = await readHold(deps.store, key);
  if (!held || held.record.attemptId !== state.attemptId) throw new Error(`no hold of attempt ${state.attemptId} at ${key}`);
  await deps.store.put(key, JSON.stringify({ ...held.record, taskToken }, null, 2) + '\n', {
    contentType: 'application/json',
    precondition: { ifMatch: held.etag },
  });
}

/** The timeout branch on AWS (States.Timeout): the hold is recorded as timed out, as a local run after the deadline does. */
export async function expireApproval(state: RunState, deps: Pick<StepDeps, 'store' | 'clock'>): Promise<ApprovalState> {
  const { plan } = state;
  const key = approvalKey({ prefix: plan.prefix, feed: plan.feed, partner: plan.partner }, plan.slot.id);
  const decided = await decideHold(deps.store, key, { decision: 'timed-out' }, deps.clock.now());
  return decided.approval;
}
