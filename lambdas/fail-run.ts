import { failRunStep } from '../lib/core/steps/fail-run';
import { branchError, deliveredRefOf } from '../lib/core/graph/node-tasks';
import { requireField, stepHandler } from './handler-kit';
import { feedMetric, METRIC } from './observability';
import { runtime, LambdaDeps } from './runtime';
import { CaughtError, FailRunEvent, stateKeys } from './step-events';

/**
 * The target of every Catch: rolls the attempt back and tells the operators, or, if the manifest
 * was written before the failure, reports the run delivered (with the reference notify takes).
 */
export function makeFailRunHandler(deps: () => Promise<Pick<LambdaDeps, 'store' | 'clock' | 'feeds' | 'operators' | 'engine' | 'lease'>>) {
  return stepHandler('fail-run', stateKeys, async (event: FailRunEvent) => {
    const state = requireField<FailRunEvent['state']>(event, 'state');
    const step = requireField<FailRunEvent['step']>(event, 'step');
    const caught = requireField<CaughtError>(event, 'error');
    const error = describeError(caught, state);
    const result = await failRunStep({ state, step, error }, await deps());
    const { plan } = state;
    if (result.status === 'delivered') return { ...result, ref: deliveredRefOf(plan, result.manifestKey) };
    if (result.status !== 'busy') feedMetric(plan.feed, METRIC.runFailed, 1);
    return { ...result, error };
  });
}

/** The caught error as the run record keeps it: a Lambda's errorMessage, Athena's reason, or the text. */
export function describeError(caught: CaughtError, state: FailRunEvent['state']): { name: string; message: string } {
  const name = caught.Error;
  // A branch of the graph that is not an error (validate's `failed`): the failing checks named.
  const branch = branchError({ name, message: '' }, state);
  if (branch.message) return branch;
  let cause: unknown = caught.Cause;
  if (typeof cause === 'string') {
    try {
      cause = JSON.parse(cause);
    } catch {
      return { name, message: cause as string };
    }
  }
  if (cause && typeof cause === 'object') {
    const c = cause as { errorMessage?: unknown; State?: unknown; StateChangeReason?: unknown };
    if (typeof c.errorMessage === 'string') return { name, message: c.errorMessage };
    if (typeof c.State === 'string')
      return { name, message: `Athena query ${c.State}${typeof c.StateChangeReason === 'string' ? `: ${c.StateChangeReason}` : ''}` };
    return { name, message: JSON.stringify(cause) };
  }
  return { name, message: cause === undefined ? name : String(cause) };
}

export const handler = makeFailRunHandler(runtime);
