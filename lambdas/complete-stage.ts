import type { Execution } from '../lib/core/ports/query-engine';
import { completeStage } from '../lib/core/steps/stage';
import { requireField, stepHandler } from './handler-kit';
import { withRenewedLease } from './lease-step';
import { runtime, LambdaDeps } from './runtime';
import { AthenaQueryExecution, CompleteStageEvent, stateKeys } from './step-events';

/** Athena's answer as the engine port's Execution (CTAS reports no row count there: describeStage finds it). */
export function executionOf(q: AthenaQueryExecution): Execution {
  return {
    executionId: q.QueryExecutionId ?? null,
    rows: null,
    bytesScanned: q.Statistics?.DataScannedInBytes ?? null,
    engineMillis: q.Statistics?.EngineExecutionTimeInMillis ?? null,
  };
}

/** Records what the finished stage query produced, and renews the slot's lease. */
export function makeCompleteStageHandler(deps: () => Promise<Pick<LambdaDeps, 'feeds' | 'engine' | 'clock' | 'store' | 'lease'>>) {
  return stepHandler('complete-stage', stateKeys, async (event: CompleteStageEvent) => {
    const state = requireField<CompleteStageEvent['state']>(event, 'state');
    const query = requireField<CompleteStageEvent['query']>(event, 'query');
    const d = await deps();
    return completeStage(await withRenewedLease(state, d), executionOf(query.QueryExecution), d);
  });
}

export const handler = makeCompleteStageHandler(runtime);
