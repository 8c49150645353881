import type { EngineName, StagedTable } from '../ports/query-engine';
import type { ApprovalState } from '../approval/approval';
import type { HeldLease } from '../lease';
import type { RunPlan } from './run-plan';
import type { RenderedFile } from './render';
import type { ValidationReport } from './validate';

/**
 * What one attempt at a run carries from step to step: plain JSON, well under Step Functions'
 * 256 KB (check samples are capped; file lists are per drop). Each step takes it and returns it
 * with its own part added.
 */
export interface RunState {
  readonly plan: RunPlan;
  /** This attempt; names its staging prefix and its engine tokens. */
  readonly attemptId: string;
  readonly lease: HeldLease;
  /** Store prefix of this attempt's staging (ends with `/`). */
  readonly stagingPrefix: string;
  readonly timings: {
    readonly startedAt: string;
    readonly stagedAt?: string;
    readonly validatedAt?: string;
    readonly renderedAt?: string;
  };
  /** The engine that ran the query and the SHA-256 of the feed SQL it ran. */
  readonly query?: { readonly engine: EngineName; readonly sqlSha256: string };
  readonly staged?: StagedTable;
  readonly validation?: ValidationReport;
  readonly files?: readonly RenderedFile[];
  /** The sign-off gate's verdict (lib/core/approval), set by the approve node. */
  readonly approval?: ApprovalState;
}

/** Takes a part of the state a step needs, or says which earlier step did not run. */
export function need<K extends keyof RunState>(state: RunState, key: K, step: string): NonNullable<RunState[K]> {
  const value = state[key];
  if (value === undefined || value === null) throw new Error(`${step} needs ${String(key)} in the run state; run the earlier steps first`);
  return value as NonNullable<RunState[K]>;
}
