import { renderFormatStep, RenderFormat } from '../lib/core/steps/render';
import { BadEventError, requireField, stepHandler } from './handler-kit';
import { runtime, LambdaDeps } from './runtime';
import { RenderEvent, stateKeys } from './step-events';

/** Renders one format of the drop into the attempt's staging (the state machine maps over the formats). */
export function makeRenderHandler(deps: () => Promise<Pick<LambdaDeps, 'feeds' | 'engine' | 'store'>>) {
  return stepHandler('render', stateKeys, async (event: RenderEvent) => {
    const state = requireField<RenderEvent['state']>(event, 'state');
    const format = requireField<RenderFormat>(event, 'format');
    if (format !== 'csv' && format !== 'parquet') throw new BadEventError(`format must be csv or parquet (got ${JSON.stringify(format)})`);
    return renderFormatStep(state, format, await deps());
  });
}

export const handler = makeRenderHandler(runtime);
