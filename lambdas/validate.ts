import { validateStep } from '../lib/core/steps/validate';
import { requireField, stepHandler } from './handler-kit';
import { withRenewedLease } from './lease-step';
import { feedMetric, METRIC } from './observability';
import { runtime, LambdaDeps } from './runtime';
import { stateKeys, StateEvent } from './step-events';

/**
 * Runs the feed's checks. A failing check is not an error here: the report travels on in the
 * state and the state machine's Choice on `validation.status` sends a `fail` to failRun.
 */
export function makeValidateHandler(deps: () => Promise<Pick<LambdaDeps, 'feeds' | 'engine' | 'store' | 'clock' | 'lease'>>) {
  return stepHandler('validate', stateKeys, async (event: StateEvent) => {
    const state = requireField<StateEvent['state']>(event, 'state');
    const d = await deps();
    const validated = await validateStep(await withRenewedLease(state, d), d);
    feedMetric(state.plan.feed, METRIC.validationFailed, validated.validation?.status === 'fail' ? 1 : 0);
    return validated;
  });
}

export const handler = makeValidateHandler(runtime);
