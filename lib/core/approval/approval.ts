import type { DropEvent, NotifyOutcome } from '../../ports/notifier';
import { ObjectStore, PreconditionFailed } from '../../ports/object-store';
import { UsageError } from '../errors';
import type { ApprovalSpec } from '../feed/feed-schema';
import { DropCoordinates, manifestKey } from '../layout';
import type { Manifest } from '../manifest';
import { describeSchemaChange, schemaChange } from '../notices/schema-change';
import { parseDurationSeconds } from '../duration';
import { previousDrop } from '../steps/plan';
import type { RunState } from '../steps/run-state';
import type { StepDeps } from '../steps/step-deps';
import { sendAll } from '../steps/notify';

/**
 * Sign-off (issue 22): a feed with `approval` holds a rendered drop before its manifest when one
 * of its triggers applies, until an approver decides or the timeout passes. The approve node of
 * the step graph (lib/core/graph/step-graph.ts) asks `assessApproval`; a held drop is recorded
 * under `_approvals/` (`holdDrop`) and resumed by the decision (`decideHold`): `dropkit
 * approve|reject` locally, the link broker's approver API (SendTaskSuccess/Failure) on AWS.
 */

/** How the gate ended for a run: the approve node's outcomes in the step graph. */
export const APPROVAL_OUTCOMES = ['not-required', 'approved', 'rejected', 'timed-out'] as const;
export type ApprovalOutcome = (typeof APPROVAL_OUTCOMES)[number];

/** The approve task's answer when the drop waits for a decision: the run is suspended, not ended. */
export const HELD = 'held';

export interface ApprovalDecision {
  /** The approver (one of the feed's `approval.approvers`). */
  readonly by: string;
  readonly at: string;
  readonly reason: string;
}

/** The gate's part of the run state (JSON: it travels with the state on both paths). */
export interface ApprovalState {
  readonly outcome: ApprovalOutcome | typeof HELD;
  /** The triggers that apply (why sign-off is needed), or why it is not. */
  readonly reasons: readonly string[];
  readonly approvers?: readonly string[];
  readonly heldAt?: string;
  /** After this the held drop is rolled back (`approval.timeout` after `heldAt`). */
  readonly deadline?: string;
  /** The same timeout in seconds: the state machine's wait for the decision (TimeoutSecondsPath). */
  readonly timeoutSeconds?: number;
  readonly decision?: ApprovalDecision;
}

/** What a manifest says of its sign-off: only approved or not-required drops are ever published. */
export interface ManifestApproval {
  readonly status: 'approved' | 'not-required';
  readonly reasons: readonly string[];
  readonly heldAt?: string;
  readonly approvedBy?: string;
  readonly approvedAt?: string;
  readonly reason?: string;
}

export function manifestApproval(a: ApprovalState | undefined): ManifestApproval | undefined {
  if (!a) return undefined;
  if (a.outcome === 'not-required') return { status: 'not-required', reasons: a.reasons };
  if (a.outcome !== 'approved' || !a.decision) throw new Error(`a drop whose approval is "${a.outcome}" cannot be published`);
  return { status: 'approved', reasons: a.reasons, heldAt: a.heldAt, approvedBy: a.decision.by, approvedAt: a.decision.at, reason: a.decision.reason };
}

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
    const got = await deps.store.get(manifestKey(coordinates, previous.slot, previous.runId));
    const before = got ? (JSON.parse(got.body.toString('utf8')) as Manifest) : undefined;
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

/** Where a slot's held drop is recorded: beside the leases, under a name no feed can take. */
export function approvalKey(c: DropCoordinates, slotId: string): string {
  return [c.prefix, '_approvals', c.feed, c.partner ? `partner=${c.partner}` : '', `slot=${slotId}.json`].filter((p) => p !== '').join('/');
}

export function approvalsPrefix(prefix: string, feed?: string): string {
  return [prefix, '_approvals', feed ?? ''].filter((p) => p !== '').join('/') + '/';
}

/** A held drop, as recorded: who may decide, by when, and (locally) the attempt to resume. */
export interface HoldRecord {
  readonly feed: string;
  readonly partner: string | null;
  readonly slot: string;
  readonly runId: string;
  readonly attemptId: string;
  readonly status: typeof HELD | 'approved' | 'rejected' | 'timed-out';
  readonly approval: ApprovalState;
  /** The attempt's run state (with the slot's lease, extended to the deadline) for the resume. */
  readonly state: RunState;
  /** On AWS: the task token the execution waits with (SendTaskSuccess/Failure take it). */
  readonly taskToken?: string;
}

/**
 * Records the held drop and tells the approvers (the operators' channels carry the notice, with the
 * triggers, the profile and the deadline). `state` must carry the lease as last written.
 */
export async function holdDrop(
  state: RunState,
  deps: Pick<StepDeps, 'store' | 'operators' | 'clock'>,
  taskToken?: string,
): Promise<{ record: HoldRecord; key: string; event: DropEvent; outcomes: readonly NotifyOutcome[] }> {
  const { plan } = state;
  const approval = state.approval!;
  const key = approvalKey({ prefix: plan.prefix, feed: plan.feed, partner: plan.partner }, plan.slot.id);
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
  };
  await deps.store.put(key, JSON.stringify(record, null, 2) + '\n', { contentType: 'application/json' });
  const event = approvalRequestedEvent(state, deps.clock.now());
  const outcomes = await sendAll(event, deps.operators);
  return { record, key, event, outcomes };
}

/** The notice to approvers: why the drop is held, by when, and what it looks like (no data values of pii columns: the profile leaves them out). */
export function approvalRequestedEvent(state: RunState, now: Date): DropEvent {
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
    },
  };
}

export async function readHold(store: ObjectStore, key: string): Promise<{ record: HoldRecord; etag: string } | undefined> {
  const got = await store.get(key);
  return got ? { record: JSON.parse(got.body.toString('utf8')) as HoldRecord, etag: got.etag } : undefined;
}

/**
 * Records an approver's decision on a held drop (once: a conditional write, so two approvers
 * deciding at once cannot both win). Past the deadline the decision is the timeout, whatever was asked.
 */
export async function decideHold(
  store: ObjectStore,
  key: string,
  asked: { readonly decision: 'approved' | 'rejected' | 'timed-out'; readonly by?: string; readonly reason?: string },
  now: Date,
): Promise<HoldRecord> {
  const held = await readHold(store, key);
  if (!held) throw new UsageError(`no drop is held for approval at ${key}; \`dropkit history\` shows the slot's runs`);
  const { record, etag } = held;
  if (record.status !== HELD) throw new UsageError(`the drop of run ${record.runId} (slot ${record.slot}) was already ${record.status}; nothing to decide`);
  const timedOut = Date.parse(record.approval.deadline!) <= now.getTime();
  let approval: ApprovalState;
  if (asked.decision === 'timed-out' || timedOut) {
    approval = { ...record.approval, outcome: 'timed-out' };
  } else {
    const approvers = record.approval.approvers ?? [];
    if (!asked.by || !approvers.includes(asked.by))
      throw new UsageError(
        `--by ${JSON.stringify(asked.by ?? '')} is not an approver of ${record.feed}; give one of ${approvers.join(', ')} (approval.approvers in the feed file)`,
      );
    if (!asked.reason?.trim()) throw new UsageError('--reason is required: say why, e.g. --reason "new column checked with finance"');
    approval = { ...record.approval, outcome: asked.decision, decision: { by: asked.by, at: now.toISOString(), reason: asked.reason.trim() } };
  }
  const decided: HoldRecord = { ...record, status: approval.outcome as HoldRecord['status'], approval };
  try {
    await store.put(key, JSON.stringify(decided, null, 2) + '\n', { contentType: 'application/json', precondition: { ifMatch: etag } });
  } catch (e) {
    if (e instanceof PreconditionFailed) throw new UsageError(`the drop of run ${record.runId} was decided by someone else meanwhile; nothing was changed`);
    throw e;
  }
  return decided;
}

/** Held drops of a feed (or of all feeds) whose deadline has passed. */
export async function expiredHolds(store: ObjectStore, prefix: string, now: Date, feed?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(approvalsPrefix(prefix, feed))) {
    const held = await readHold(store, o.key);
    if (held?.record.status === HELD && Date.parse(held.record.approval.deadline!) <= now.getTime()) out.push(o.key);
  }
  return out;
}
