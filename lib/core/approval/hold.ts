import { readStoreJson } from '../store-json';
import { manifestSchema } from '../manifest-schema';
import type { DropEvent, NotifyOutcome } from '../ports/notifier';
import { parseDurationSeconds } from '../duration';
import type { ApprovalSpec } from '../feed/feed-schema';
import { DropCoordinates, manifestKey } from '../layout';
import { describeSchemaChange, schemaChange } from '../notices/schema-change';
import { sendAll } from '../steps/notify';
import { previousDrop } from '../steps/run-plan';
import type { RunState } from '../steps/run-state';
import type { StepDeps } from '../steps/step-deps';
import type { Preview } from '../profile/preview';
import { APPROVAL_PREVIEW_ROWS, previewOf } from './hold-view';
import { ApprovalState, approvalKey, HELD, HoldRecord } from './approval';

/**
 * Whether this attempt's drop needs sign-off: the feed's triggers against the previous delivered
 * drop of the same feed and partner (its manifest's schema) and this run's drift checks.
 */
export async function assessApproval(state: RunState, deps: Pick<StepDeps, 'store' | 'feeds' | 'clock'>): Promise<ApprovalState> {
  const { plan } = state;
  const spec: ApprovalSpec | undefined = deps.feeds.get(plan.feed).spec.approval;
  if (!spec) return { outcome: 'not-required', reasons: ['the feed asks for no approval'] };
  const coordinates: DropCoordinates = { prefix: plan.prefix, feed: plan.feed, partner: plan.partner };
  const previous = await previousDrop(deps.store, coordinates, plan.slot.id);
  const reasons: string[] = [];
  if (spec.when.includes('first') && !previous) reasons.push(`first: no earlier drop of ${plan.feed}${plan.partner ? ` for ${plan.partner}` : ''}`);
  if (spec.when.includes('schema_change') && previous && state.staged) {
    const before = await readStoreJson(deps.store, manifestKey(coordinates, previous.slot, previous.runId), manifestSchema);
    const change = before ? schemaChange(before.schema.columns, state.staged.columns) : null;
    if (change) reasons.push(`schema_change since run ${previous.runId}: ${describeSchemaChange(change).join('; ')}`);
  }
  if (spec.when.includes('drift')) {
    for (const c of state.validation?.checks ?? []) if (c.type === 'drift' && c.outcome !== 'pass') reasons.push(`drift: ${c.name} ${c.outcome}: ${c.message}`);
  }
  if (reasons.length === 0) return { outcome: 'not-required', reasons: [`none of approval.when (${spec.when.join(', ')}) applies`] };
  const now = deps.clock.now();
  const timeoutSeconds = parseDurationSeconds(spec.timeout)!;
  return {
    outcome: HELD,
    reasons,
    approvers: spec.approvers,
    heldAt: now.toISOString(),
    deadline: new Date(now.getTime() + timeoutSeconds * 1000).toISOString(),
    timeoutSeconds,
  };
}

/**
 * Records the held drop and tells the approvers (the operators' channels carry the notice, with the
 * triggers, the profile and the deadline). `state` must carry the lease as last written.
 */
export async function holdDrop(
  state: RunState,
  deps: Pick<StepDeps, 'store' | 'operators' | 'clock' | 'feeds'>,
  taskToken?: string,
): Promise<{ record: HoldRecord; key: string; event: DropEvent; outcomes: readonly NotifyOutcome[] }> {
  const { plan } = state;
  const approval = state.approval!;
  const key = approvalKey({ prefix: plan.prefix, feed: plan.feed, partner: plan.partner }, plan.slot.id);
  // Kept with the hold: approvers look at it (the broker's GET, `approve --show`) after staging is gone, and the broker cannot read staging.
  const preview = await previewOf(state, deps).catch(() => undefined);
  const record: HoldRecord = {
    feed: plan.feed,
    partner: plan.partner,
    slot: plan.slot.id,
    runId: plan.runId,
    attemptId: state.attemptId,
    status: HELD,
    approval,
    state,
    ...(taskToken ? { taskToken } : {}),
    ...(preview ? { preview } : {}),
  };
  await deps.store.put(key, JSON.stringify(record, null, 2) + '\n', { contentType: 'application/json' });
  const event = approvalRequestedEvent(state, deps.clock.now(), preview);
  const outcomes = await sendAll(event, deps.operators);
  return { record, key, event, outcomes };
}

/** The notice to approvers: why the drop is held, by when, and what it looks like (no data values of pii columns: the profile leaves them out). */
export function approvalRequestedEvent(state: RunState, now: Date, preview?: Preview): DropEvent {
  const { plan } = state;
  const a = state.approval!;
  return {
    type: 'approval.requested',
    id: `${plan.runId}.${state.attemptId}.approval`,
    feed: plan.feed,
    partner: plan.partner,
    runId: plan.runId,
    revision: plan.revision,
    slot: plan.slot.id,
    occurredAt: now.toISOString(),
    audience: 'operators',
    rowCount: state.staged?.rowCount,
    approval: {
      approvers: a.approvers ?? [],
      reasons: a.reasons,
      deadline: a.deadline ?? '',
      schema: state.staged?.columns.map((c) => ({ name: c.name, type: c.type })) ?? [],
      ...(state.validation?.profile ? { profile: state.validation.profile } : {}),
      ...(preview ? { preview } : {}),
    },
  };
}

// Where they were first written; hold-view.ts keeps them light for the link broker.
export { APPROVAL_PREVIEW_ROWS, previewOf };
