import type { RunOutcome } from '../runner/run-slot';
import { EXIT } from './exit-codes';

/** How run outcomes are shown: one JSON object each for --json, a few readable lines otherwise. */

export function exitCodeForOutcomes(outcomes: readonly RunOutcome[]): number {
  if (outcomes.some((o) => o.status === 'failed')) return EXIT.failure;
  if (outcomes.some((o) => o.status === 'validation-failed')) return EXIT.validation;
  if (outcomes.some((o) => o.status === 'busy')) return EXIT.busy;
  if (outcomes.some((o) => o.status === 'awaiting-approval')) return EXIT.held;
  return EXIT.ok;
}

export function worstStatus(outcomes: readonly RunOutcome[]): RunOutcome['status'] {
  for (const s of ['failed', 'validation-failed', 'busy', 'awaiting-approval', 'delivered', 'already-delivered'] as const)
    if (outcomes.some((o) => o.status === s)) return s;
  return 'delivered';
}

export function outcomeJson(o: RunOutcome, pathOf: (key: string) => string) {
  return {
    status: o.status,
    feed: o.feed,
    partner: o.partner,
    slot: o.slot,
    runId: o.runId,
    revision: o.revision,
    manifest: o.manifestKey ? pathOf(o.manifestKey) : null,
    manifestKey: o.manifestKey,
    rowCount: o.manifest?.rowCount ?? null,
    files: o.manifest?.files ?? [],
    sla: o.manifest?.sla ?? null,
    supersedes: o.manifest?.supersedes ?? null,
    validation: o.validation ?? null,
    notifications: o.notifications,
    error: o.error ?? null,
    pending: o.pending ?? [],
    approval: o.manifest?.approval ?? o.approval ?? null,
  };
}

export function describeOutcome(o: RunOutcome, pathOf: (key: string) => string): string {
  const who = `${o.feed}${o.partner ? ` [${o.partner}]` : ''} slot ${o.slot}`;
  const lines: string[] = [];
  if (o.status === 'already-delivered') {
    lines.push(`= ${who}: already delivered (revision ${o.revision}, run ${o.runId}); use --rerun for a new revision`);
  } else if (o.status === 'delivered' && o.manifest) {
    const m = o.manifest;
    const late = m.sla.status === 'LATE' ? ` (${formatLateness(m.sla.latenessSeconds)} late)` : '';
    lines.push(
      `✓ ${who}: delivered ${m.rowCount} rows in ${m.files.length} file${m.files.length === 1 ? '' : 's'}, SLA ${m.sla.status}${late}${m.supersedes ? `, supersedes ${m.supersedes}` : ''}`,
    );
  } else if (o.status === 'busy') {
    lines.push(`~ ${who}: ${o.approval ? o.error!.message : 'another run is delivering this slot; this one did nothing'} (run ${o.runId})`);
  } else if (o.status === 'awaiting-approval') {
    const a = o.approval;
    lines.push(`? ${who}: held for approval until ${a?.deadline}; nothing is published yet (run ${o.runId})`);
    for (const r of a?.reasons ?? []) lines.push(`  because ${r}`);
    lines.push(
      `  approvers: ${(a?.approvers ?? []).join(', ')}; decide with dropkit approve|reject ${o.feed} --slot ${o.slot}${o.partner ? ` --partner ${o.partner}` : ''} --by … --reason …`,
    );
  } else {
    lines.push(`✗ ${who}: ${o.status === 'validation-failed' ? 'validation failed' : `failed at ${o.error?.step}`}; nothing was published (run ${o.runId})`);
    if (o.error && o.status === 'failed') lines.push(`  ${o.error.name}: ${o.error.message}`);
    const d = o.approval?.decision;
    if (d) lines.push(`  ${o.approval?.outcome} by ${d.by} at ${d.at}: ${d.reason}`);
  }
  for (const c of o.validation?.checks ?? []) {
    if (c.outcome !== 'pass') lines.push(`  ${c.outcome.toUpperCase()} ${c.name}: ${c.message}`);
  }
  if (o.validation) lines.push(`  checks ${checkTally(o.validation.checks)}`);
  for (const n of o.notifications) {
    if (n.status === 'skipped' && n.detail?.startsWith('not sent: ')) lines.push(`  ~ would notify ${n.target} (${n.detail})`);
    if (n.status === 'failed') lines.push(`  ! notification to ${n.target} failed after ${n.attempts} attempts: ${n.detail ?? ''}`);
  }
  if (o.manifestKey && o.status === 'delivered') lines.push(`  manifest ${pathOf(o.manifestKey)}`);
  const approved = o.status === 'delivered' ? o.manifest?.approval : undefined;
  if (approved?.status === 'approved') lines.push(`  approved by ${approved.approvedBy} at ${approved.approvedAt}: ${approved.reason}`);
  const m = o.status === 'delivered' ? o.manifest : undefined;
  if (m && m.sla.status === 'LATE' && Date.parse(m.timings.startedAt) > Date.parse(m.sla.expectedBy)) {
    // A first run by hand (npm start) catches up a slot whose deadline has passed: say why it is LATE.
    lines.push(
      `  LATE because this run started at ${m.timings.startedAt}, after the slot's deadline ${m.sla.expectedBy}: nothing ran it on time. Run on schedule (a cron or the deployed stack), slots are delivered by their deadline`,
    );
  }
  for (const p of o.pending ?? []) lines.push(`  ! delivered, but left for the next run or dropkit repair: ${p}`);
  return lines.join('\n');
}

/** 93784 → "1d 2h 3m": lateness an operator can read at a glance. */
export function formatLateness(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, !d && !h && s && `${s}s`].filter(Boolean);
  return parts.length ? parts.join(' ') : '0s';
}

/** dbt's summary line: how many checks passed, warned, failed and could not run. */
export function checkTally(checks: readonly { readonly outcome: string }[]): string {
  const n = (outcome: string) => checks.filter((c) => c.outcome === outcome).length;
  return `PASS=${n('pass')} WARN=${n('warn')} FAIL=${n('fail')} ERROR=${n('error')}`;
}
