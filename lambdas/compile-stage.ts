import { compileStage } from '../lib/core/steps/stage';
import { sqlLiteral } from '../lib/adapters/athena/athena-sql';
import { requireField, stepHandler } from './handler-kit';
import { runtime, LambdaDeps } from './runtime';
import { stateKeys, StateEvent } from './step-events';

/**
 * Compiles the stage statement (CTAS into staging) for the state machine to run on Athena itself.
 * `executionParameters` are the positional parameters as escaped typed literals, as Athena takes
 * them; Athena refuses an empty list, so `hasParameters` tells the state machine which call to make.
 */
export function makeCompileStageHandler(deps: () => Promise<Pick<LambdaDeps, 'feeds' | 'engine'>>) {
  return stepHandler('compile-stage', stateKeys, async (event: StateEvent) => {
    const state = requireField<StateEvent['state']>(event, 'state');
    const statement = await compileStage(state, await deps());
    const executionParameters = statement.parameters.map(sqlLiteral);
    return { statement, executionParameters, hasParameters: executionParameters.length > 0 };
  });
}

export const handler = makeCompileStageHandler(runtime);
