import type { HeldLease } from '../lib/core/lease';
import type { StepName } from '../lib/core/run-record';
import type { DeliveredRef } from '../lib/core/steps/run-plan';
import type { RenderedFile, RenderFormat } from '../lib/core/steps/render';
import type { RunState } from '../lib/core/steps/run-state';
import type { RunKeys } from './handler-kit';

/**
 * The events the state machine hands each step Lambda (JSONPath Parameters in lib/cdk) and what
 * they return: the contract between the definition and the handlers, tested on both sides.
 */
export interface PlanEvent {
  readonly feed: string;
  readonly partner?: string | null;
  /** ISO-8601; the schedule passes its scheduled time. Default: the latest due slot. */
  readonly slot?: string;
  readonly rerun?: boolean;
}

/** The graph's repair node: a delivered slot's run finished, and dead newer attempts cleared. */
export interface RepairEvent {
  readonly repair: DeliveredRef;
}

export interface StateEvent {
  readonly state: RunState;
}

/** What Athena's GetQueryExecution answers (the fields the state machine passes on). */
export interface AthenaQueryExecution {
  readonly QueryExecutionId?: string;
  readonly Status?: { readonly State?: string; readonly StateChangeReason?: string };
  readonly Statistics?: { readonly DataScannedInBytes?: number; readonly EngineExecutionTimeInMillis?: number };
}

export interface CompleteStageEvent extends StateEvent {
  readonly query: { readonly QueryExecution: AthenaQueryExecution };
}

export interface RenderEvent extends StateEvent {
  readonly format: RenderFormat;
}

export interface PublishEvent extends StateEvent {
  /** One list of files per format, in the order of `formats` (the render Map's result). */
  readonly rendered: readonly (readonly RenderedFile[])[];
}

export interface NotifyEvent {
  readonly ref: DeliveredRef;
  /** The attempt that published: its lease on the slot is released once the notice is out. */
  readonly attemptId?: string;
}

/** A Step Functions Catch result: the error's name and its cause (a Lambda's error JSON, or any JSON). */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: unknown;
}

export interface FailRunEvent extends StateEvent {
  readonly step: StepName;
  readonly error: CaughtError;
}

export interface LeaseCarrier {
  readonly lease: HeldLease;
}

export function stateKeys(event: Partial<StateEvent>): RunKeys {
  const plan = event.state?.plan;
  return { feed: plan?.feed, runId: plan?.runId, partner: plan?.partner };
}

/** A push node (push, pushRecovered, pushRepaired): the delivered run whose drop goes to the feed's destinations. */
export interface PushEvent {
  readonly ref: DeliveredRef;
  /** The attempt holding the slot's lease (push, pushRecovered): renewed while the push works. pushRepaired has none. */
  readonly attemptId?: string;
}
