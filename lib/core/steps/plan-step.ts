import { runIdentity } from '../manifest';
import { acquireLease, releaseLease, Lease } from '../lease';
import { stagingPrefix } from '../layout';
import type { RunRecord } from '../run-record';
import { planRun, DeliveredRef, RunPlan } from './run-plan';
import { writeRunRecord } from '../run-record-store';
import type { RunState } from './run-state';
import type { StepDeps } from './step-deps';
import { deliveredRefOf } from '../graph/delivered-ref';

/** The plan step's input: JSON, as a schedule or the CLI gives it. */
export interface PlanInput {
  readonly feed: string;
  readonly partner: string | null;
  /** ISO-8601; default: the latest slot that is due. */
  readonly slot?: string;
  readonly rerun?: boolean;
}

export type PlanOutput =
  | { readonly status: 'planned'; readonly state: RunState }
  | { readonly status: 'already-delivered'; readonly delivered: DeliveredRef }
  | { readonly status: 'busy'; readonly plan: RunPlan; readonly holder: Lease };

/**
 * The plan step of a run: resolves the slot and, unless it is delivered, takes the slot's lease
 * for a new attempt, removes what dead attempts of the run left (their staging, data files without
 * a manifest), and records the run as running. A slot another attempt holds ends here as `busy`,
 * having written nothing.
 */
export async function planStep(
  input: PlanInput,
  deps: Pick<StepDeps, 'store' | 'clock' | 'feeds' | 'lease' | 'newAttemptId'> & { readonly prefix: string },
): Promise<PlanOutput> {
  const { store } = deps;
  const feed = deps.feeds.get(input.feed);
  const planned = await planRun(
    { feed, prefix: deps.prefix, partner: input.partner, slot: input.slot ? new Date(input.slot) : undefined, rerun: input.rerun },
    { store, clock: deps.clock },
  );
  if (planned.status === 'already-delivered') return planned;
  const plan = planned.plan;
  const attemptId = deps.newAttemptId();
  const lease = await acquireLease(store, plan.keys.lease, { attemptId, runId: plan.runId }, deps.clock.now(), deps.lease);
  if (!lease.acquired) return { status: 'busy', plan, holder: lease.holder };

  const startedAt = deps.clock.now().toISOString();
  try {
    if (await store.exists(plan.keys.manifest)) {
      // A racer delivered this very run between our plan and our lease: its record and drop are not ours to touch.
      await releaseLease(store, lease.held);
      return { status: 'already-delivered', delivered: deliveredRefOf(plan, plan.keys.manifest) };
    }
    // The slot is ours and nothing of an earlier attempt of this run is delivered (no manifest), so it goes.
    await store.deletePrefix(plan.keys.stagingRoot);
    await store.deletePrefix(plan.keys.drop);
    const record: RunRecord = {
      ...runIdentity(plan),
      attemptId,
      status: 'running',
      step: 'plan',
      startedAt,
      finishedAt: null,
      error: null,
      validation: null,
      manifest: null,
      rowCount: null,
      noticeSent: false,
      notifications: [],
      pending: [],
    };
    await writeRunRecord(store, plan.keys.runRecord, record);
  } catch (error) {
    // Nothing ran yet: give the slot back rather than keep it until the lease expires.
    await releaseLease(store, lease.held).catch(() => undefined);
    throw error;
  }
  return {
    status: 'planned',
    state: { plan, attemptId, lease: lease.held, stagingPrefix: stagingPrefix(plan.prefix, plan.runId, attemptId), timings: { startedAt } },
  };
}
