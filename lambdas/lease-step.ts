import { renewLease } from '../lib/core/lease';
import type { RunState } from '../lib/core/steps/run-state';
import type { LambdaDeps } from './runtime';

/**
 * Renews the slot's lease between steps: on AWS no process keeps it alive in the background, so
 * each long step extends it (and stops, by SlotBusyError, if another attempt took the slot over).
 */
export async function withRenewedLease(state: RunState, deps: Pick<LambdaDeps, 'store' | 'clock' | 'lease'>): Promise<RunState> {
  return { ...state, lease: await renewLease(deps.store, state.lease, deps.clock.now(), deps.lease.ttlSeconds) };
}
