import { createGunzip } from 'node:zlib';
import type { ObjectStore } from '../ports/object-store';
import type { FeedCatalog } from '../steps/step-deps';
import type { RunState } from '../steps/run-state';
import type { Profile } from '../profile/profile';
import { Preview, readCsvHead, redact } from '../profile/preview';
import { approvalKey, ApprovalState, HoldRecord, readHold } from './approval';

/**
 * What an approver looks at before deciding: the held drop as its hold records it (status, why it
 * is held, by when, who may decide), its schema and profile, and a preview of its first rows with
 * `pii: true` columns redacted. The link broker's `GET /approvals/{feed}/slots/{slot}` answers it,
 * `dropkit approve FEED --slot … --show` prints it. Light: the broker's bundle carries it.
 */
export interface HoldView {
  readonly feed: string;
  readonly partner: string | null;
  readonly slot: string;
  readonly runId: string;
  /** `held` until decided; then the decision (or `timed-out`). */
  readonly status: HoldRecord['status'];
  readonly reasons: readonly string[];
  readonly approvers: readonly string[];
  readonly heldAt: string | null;
  /** After this the held drop is rolled back. */
  readonly deadline: string | null;
  readonly decision: ApprovalState['decision'] | null;
  readonly rowCount: number | null;
  readonly schema: readonly { readonly name: string; readonly type: string }[];
  readonly profile: Profile | null;
  /** Null when the rendered CSV is gone (decided and cleaned up) or the feed writes no CSV. */
  readonly preview: Preview | null;
}

/** Rows of the preview: enough to see what the data looks like, small enough for an SNS notice. */
export const APPROVAL_PREVIEW_ROWS = 5;

/** The first rows of the held drop's CSV (staged), `pii: true` columns redacted, as the report shows them. */
export async function previewOf(
  state: RunState,
  deps: { readonly store: ObjectStore; readonly feeds: FeedCatalog },
  rows = APPROVAL_PREVIEW_ROWS,
): Promise<Preview | undefined> {
  const spec = deps.feeds.get(state.plan.feed).spec;
  const file = state.files?.find((f) => f.format === 'csv');
  const csv = spec.formats.csv;
  if (!file || !csv) return undefined;
  const body = await deps.store.read(file.stagingKey);
  const dialect = {
    delimiter: csv.delimiter,
    quote: csv.quote,
    header: csv.header,
    nullText: csv.nullText,
    lineEnding: csv.lineEnding,
    encoding: csv.encoding,
  };
  const head = await readCsvHead(file.compression === 'gzip' ? body.pipe(createGunzip()) : body, dialect, rows);
  const pii = Object.entries(spec.columns ?? {}).flatMap(([name, c]) => (c.pii ? [name] : []));
  return redact(head, pii);
}

/** The view of a hold record; `preview`: the one kept with the hold (holds recorded before it was kept: read from staging now). */
export async function holdView(record: HoldRecord, deps: { readonly store: ObjectStore; readonly feeds: FeedCatalog }): Promise<HoldView> {
  const { approval, state } = record;
  const preview = record.preview ?? (record.status === 'held' ? await previewOf(state, deps).catch(() => undefined) : undefined);
  return {
    feed: record.feed,
    partner: record.partner,
    slot: record.slot,
    runId: record.runId,
    status: record.status,
    reasons: approval.reasons,
    approvers: approval.approvers ?? [],
    heldAt: approval.heldAt ?? null,
    deadline: approval.deadline ?? null,
    decision: approval.decision ?? null,
    rowCount: state.staged?.rowCount ?? null,
    schema: state.staged?.columns.map((c) => ({ name: c.name, type: c.type })) ?? [],
    profile: state.validation?.profile ?? null,
    preview: preview ?? null,
  };
}

/** The view of the hold of a slot, or undefined when no drop of it was ever held. */
export async function readHoldView(
  deps: { readonly store: ObjectStore; readonly feeds: FeedCatalog; readonly prefix: string },
  at: { readonly feed: string; readonly partner: string | null; readonly slot: string },
): Promise<HoldView | undefined> {
  const held = await readHold(deps.store, approvalKey({ prefix: deps.prefix, feed: at.feed, partner: at.partner }, at.slot));
  return held ? holdView(held.record, deps) : undefined;
}

/** The view as text, for the person at the CLI. */
export function describeHoldView(v: HoldView): string {
  const who = `${v.feed}${v.partner ? ` [${v.partner}]` : ''} slot ${v.slot} (run ${v.runId})`;
  const lines = [`${who}: ${v.status}`];
  if (v.status === 'held')
    lines.push(`  decide by ${v.deadline}: dropkit approve|reject ${v.feed} --slot ${v.slot}${v.partner ? ` --partner ${v.partner}` : ''} --by … --reason …`);
  if (v.decision) lines.push(`  decided by ${v.decision.by} at ${v.decision.at}: ${v.decision.reason}`);
  lines.push(`  held at ${v.heldAt ?? '?'}, because:`, ...v.reasons.map((r) => `    - ${r}`));
  lines.push(`  approvers: ${v.approvers.join(', ') || '(none)'}`);
  lines.push(`  rows: ${v.rowCount ?? '?'}; columns: ${v.schema.map((c) => `${c.name} ${c.type}`).join(', ')}`);
  if (v.profile) {
    lines.push('  profile:');
    for (const c of v.profile.columns) {
      const range = c.min !== undefined && c.min !== null ? `, ${c.min} … ${c.max}` : '';
      lines.push(`    ${c.name}: ${(c.nullFraction * 100).toFixed(1)}% null, ~${c.distinct} distinct${range}`);
    }
  }
  if (v.preview) {
    lines.push(`  first ${v.preview.rows.length} rows${v.preview.redacted.length ? ` (${v.preview.redacted.join(', ')} redacted: pii)` : ''}:`);
    lines.push(`    ${v.preview.columns.join(' | ')}`, ...v.preview.rows.map((r) => `    ${r.map((x) => x ?? 'NULL').join(' | ')}`));
  } else lines.push('  no preview: the rendered CSV is gone (the drop was decided) or the feed writes no CSV');
  return lines.join('\n');
}
