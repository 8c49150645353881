import type { DeliveredRef, RunPlan } from '../steps/run-plan';

/** The reference to a delivered run that notify, repair and the CLI take: built here only. */
export function deliveredRefOf(
  plan: Pick<RunPlan, 'feed' | 'partner' | 'prefix' | 'runId' | 'revision'> & { readonly slot: { readonly id: string } },
  manifestKey: string,
): DeliveredRef {
  return { feed: plan.feed, partner: plan.partner, prefix: plan.prefix, slot: plan.slot.id, runId: plan.runId, revision: plan.revision, manifestKey };
}
