import * as z from 'zod';
import { parseStoreJson } from '../store-json';
import { ObjectStore, PreconditionFailed } from '../ports/object-store';
import { UsageError } from '../errors';
import type { Manifest } from '../manifest';
import type { RunState } from '../steps/run-state';
import type { Preview } from '../profile/preview';

/**
 * Sign-off (issue 22): a feed with `approval` holds a rendered drop before its manifest when one
 * of its triggers applies, until an approver decides or the timeout passes. The approve node of
 * the step graph (lib/core/graph/step-graph.ts) asks `assessApproval` (hold.ts); a held drop is
 * recorded under `_approvals/` (`holdDrop`) and resumed by the decision (`decideHold`, here: this
 * file stays light, for the link broker's bundle): `dropkit
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
export type ManifestApproval = NonNullable<Manifest['approval']>;

export function manifestApproval(a: ApprovalState | undefined): ManifestApproval | undefined {
  if (!a) return undefined;
  if (a.outcome === 'not-required') return { status: 'not-required', reasons: a.reasons };
  if (a.outcome !== 'approved' || !a.decision) throw new Error(`a drop whose approval is "${a.outcome}" cannot be published`);
  return { status: 'approved', reasons: a.reasons, heldAt: a.heldAt, approvedBy: a.decision.by, approvedAt: a.decision.at, reason: a.decision.reason };
}

// Keys of held drops: layout.ts.
import { approvalKey, approvalsPrefix } from '../layout';
export { approvalKey, approvalsPrefix };

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
  /** The first rows, `pii: true` columns redacted, as the approvers were told (hold-view.ts). */
  readonly preview?: Preview;
}

/** The gate's part of the run state as stored (in a hold, and in the run record of a rejected or timed-out run). */
export const approvalStateSchema = z.object({
  outcome: z.enum([...APPROVAL_OUTCOMES, HELD]),
  reasons: z.array(z.string()),
  approvers: z.array(z.string()).optional(),
  heldAt: z.string().optional(),
  deadline: z.string().optional(),
  timeoutSeconds: z.number().optional(),
  decision: z.object({ by: z.string(), at: z.string(), reason: z.string() }).optional(),
});

const holdRecordSchema = z.looseObject({
  feed: z.string(),
  partner: z.string().nullable(),
  slot: z.string(),
  runId: z.string(),
  attemptId: z.string(),
  status: z.enum([HELD, 'approved', 'rejected', 'timed-out']),
  approval: approvalStateSchema,
  state: z.looseObject({ plan: z.looseObject({ feed: z.string() }) }),
  taskToken: z.string().optional(),
});

export async function readHold(store: ObjectStore, key: string): Promise<{ record: HoldRecord; etag: string } | undefined> {
  const got = await store.get(key);
  // The run state it carries is the runner's own JSON, checked where it is used; the decision's fields are checked here.
  return got ? { record: parseStoreJson(key, got.body, holdRecordSchema) as unknown as HoldRecord, etag: got.etag } : undefined;
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
