import { approveStep, expireApproval, keepTaskToken } from '../lib/core/approval/approve-step';
import type { RenderedFile } from '../lib/core/steps/render';
import type { RunState } from '../lib/core/steps/run-state';
import { BadEventError, requireField, stepHandler } from './handler-kit';
import { runtime, LambdaDeps } from './runtime';
import { stateKeys } from './step-events';

/**
 * The approve node (sign-off, lib/core/approval). One function, three calls from the state machine:
 * - `{ state }` (CheckApproval): does the drop need sign-off? Held: the lease extended to the
 *   deadline, the hold recorded, the approvers told. Returns the state with `approval`.
 * - `{ state, taskToken }` (AwaitApproval, `.waitForTaskToken`): keeps the token with the hold; the
 *   link broker's approver API answers it with SendTaskSuccess (the decision). Returns nothing:
 *   the execution waits for the token.
 * - `{ state, expire: true }` (ExpireApproval, after States.Timeout): records the hold timed out.
 */
export interface ApproveEvent {
  readonly state: RunState;
  /** CheckApproval: the files each format rendered (the Map's output), joined to the state as publish joins them. */
  readonly rendered?: RenderedFile[][];
  readonly taskToken?: string;
  readonly expire?: boolean;
}

export function makeApproveHandler(deps: () => Promise<Pick<LambdaDeps, 'store' | 'feeds' | 'clock' | 'operators'>>) {
  return stepHandler('approve', stateKeys, async (event: ApproveEvent) => {
    const state = requireField<RunState>(event, 'state');
    const d = await deps();
    if (event.taskToken !== undefined) {
      if (typeof event.taskToken !== 'string' || !event.taskToken) throw new BadEventError('taskToken must be the non-empty $$.Task.Token');
      await keepTaskToken(state, event.taskToken, d);
      return { kept: true };
    }
    if (event.expire) return expireApproval(state, d);
    // The hold keeps the state a resume publishes from: with its files, as locally.
    const files = event.rendered
      ? { files: event.rendered.flat(), timings: { ...state.timings, renderedAt: state.timings.renderedAt ?? d.clock.now().toISOString() } }
      : {};
    // No renewal here: a held drop's lease is extended by approveStep, and publish fences as ever.
    return approveStep({ ...state, ...files }, d);
  });
}

export const handler = makeApproveHandler(runtime);
