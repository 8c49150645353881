import type { ValidationStatus } from '../manifest';
import { humanDuration } from '../notices/event-text';
import type { SlotEvidence } from './delivery-evidence';
import type { ExpectedSlot } from './expected-slots';
import type { RunRecord } from '../run-record';
import { slaOutcome } from '../sla';
import type { Manifest } from '../manifest';
import { arrivedAt, destinationOutcomes, missingAtDestinations, type DestinationOutcome } from './destination-sla';

/**
 * The SLA state of one slot:
 * - MET / LATE: delivered (its first revision decides), LATE with its lateness;
 * - NOT_EXPECTED: a calendar exception and nothing delivered;
 * - RUNNING: a run is under way and the slot is not yet past deadline + grace;
 * - FAILED: the latest run failed (validation or error, said which), nothing delivered;
 * - MISSED: past deadline + grace, nothing delivered and no run failed or running (a run still
 *   "running" by then is taken as stuck: its holder died; the slot says so);
 * - AT_RISK: past the warn point (or the deadline, without one), nothing delivered, no run;
 * - PENDING: ticked, not yet at its warn point or deadline, no run yet: nothing is wrong.
 */
export type SlaState = 'MET' | 'LATE' | 'AT_RISK' | 'MISSED' | 'FAILED' | 'RUNNING' | 'PENDING' | 'NOT_EXPECTED';

export const SLA_STATES: readonly SlaState[] = ['MET', 'LATE', 'NOT_EXPECTED', 'PENDING', 'RUNNING', 'AT_RISK', 'MISSED', 'FAILED'];

export interface SlotStatus extends ExpectedSlot {
  readonly state: SlaState;
  /** One sentence a person can read, e.g. "delivered 1 h 05 min late". */
  readonly detail: string;
  readonly deliveredAt: string | null;
  readonly latenessSeconds: number | null;
  /** The newest delivered revision, or the latest run. */
  readonly runId: string | null;
  readonly revision: number | null;
  readonly revisions: number;
  readonly rowCount: number | null;
  readonly validation: ValidationStatus | null;
  /** Key of the newest delivered manifest. */
  readonly manifest: string | null;
  readonly failure: {
    readonly kind: 'validation' | 'error';
    readonly runId: string;
    readonly step: string;
    /** The error's name, e.g. QueryFailedError. */
    readonly name: string;
    readonly message: string;
    /** Validation failures: the checks that failed or could not run. */
    readonly checks: readonly { readonly name: string; readonly type: string; readonly severity: string; readonly outcome: string; readonly message: string }[];
  } | null;
  /** Delivered for a slot before the feed's start: a backfill, not held to the SLA. */
  readonly backfilled: boolean;
  /** A run still recorded as running past deadline + grace. */
  readonly stuckRun: { readonly runId: string; readonly step: string; readonly startedAt: string } | null;
  /** With sla.deliveredWhen: destinations, where the newest drop's destinations stand. */
  readonly destinations?: readonly DestinationOutcome[];
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}

/** A record written before runs kept their delivery: judged by when it finished against the slot's deadline. */
function deliveryFromRecord(record: RunRecord, expected: ExpectedSlot): NonNullable<RunRecord['delivery']> {
  const deliveredAt = record.finishedAt ?? record.startedAt;
  return { expectedBy: expected.expectedBy, deliveredAt, ...slaOutcome(new Date(expected.expectedBy), new Date(deliveredAt)) };
}

/** Decides a slot's state from what the store holds and the time. Pure. */
export function slotState(expected: ExpectedSlot, evidence: SlotEvidence, now: Date): SlotStatus {
  const t = now.getTime();
  const none = {
    deliveredAt: null,
    latenessSeconds: null,
    runId: null,
    revision: null,
    revisions: 0,
    rowCount: null,
    validation: null,
    manifest: null,
    failure: null,
    stuckRun: null,
    backfilled: false,
  };
  if (evidence.manifests.length > 0) {
    // The SLA is about the first delivery; rows, validation and revision are the newest's.
    const first = evidence.manifests[0].manifest;
    const newest = evidence.manifests[evidence.manifests.length - 1];
    // A backfill before the feed's start owed nothing, so it cannot be late.
    const backfilled = expected.beforeStart !== null;
    const state = backfilled ? 'MET' : first.sla.status;
    const published: SlotStatus = {
      ...expected,
      ...none,
      state,
      backfilled,
      detail: backfilled
        ? `backfilled ${expected.beforeStart}: not held to the SLA`
        : state === 'MET'
          ? 'delivered on time'
          : `delivered ${humanDuration(first.sla.latenessSeconds)} late`,
      deliveredAt: first.sla.deliveredAt,
      latenessSeconds: first.sla.latenessSeconds,
      runId: newest.manifest.runId,
      revision: newest.manifest.revision,
      revisions: evidence.manifests.length,
      rowCount: newest.manifest.rowCount,
      validation: newest.manifest.validation.status,
      manifest: newest.key,
    };
    if (expected.deliveredWhen !== 'destinations' || backfilled) return published;
    const drops = evidence.manifests.map((m) => ({ manifest: m.manifest, record: evidence.runs.find((r) => r.runId === m.manifest.runId) }));
    return atDestinations(published, drops, now);
  }
  // Retention deleted the drops; the run records stay and say when it was delivered.
  const deliveredRuns = evidence.runs.filter((r) => r.status === 'delivered').sort((a, b) => a.revision - b.revision);
  if (deliveredRuns.length > 0) {
    const first = deliveredRuns[0];
    const newest = deliveredRuns[deliveredRuns.length - 1];
    const delivery = first.delivery ?? deliveryFromRecord(first, expected);
    const state = delivery.status;
    const when = state === 'MET' ? 'delivered on time' : `delivered ${humanDuration(delivery.latenessSeconds)} late`;
    const published: SlotStatus = {
      ...expected,
      ...none,
      state,
      detail: `${when}; the drop has since been removed by retention`,
      deliveredAt: delivery.deliveredAt,
      latenessSeconds: delivery.latenessSeconds,
      runId: newest.runId,
      revision: newest.revision,
      revisions: deliveredRuns.length,
      rowCount: newest.rowCount,
      validation: newest.validation?.status ?? null,
    };
    if (expected.deliveredWhen !== 'destinations') return published;
    return atDestinations(
      published,
      deliveredRuns.map((record) => ({ manifest: undefined, record })),
      now,
    );
  }
  if (expected.exception) return { ...expected, ...none, state: 'NOT_EXPECTED', detail: expected.exception };
  if (expected.beforeStart) return { ...expected, ...none, state: 'NOT_EXPECTED', detail: `nothing due ${expected.beforeStart}` };

  const missed = t >= Date.parse(expected.missedAt);
  const latest = evidence.runs[evidence.runs.length - 1];
  if (latest?.status === 'running') {
    const run = { runId: latest.runId, revision: latest.revision };
    if (missed) {
      return {
        ...expected,
        ...none,
        ...run,
        state: 'MISSED',
        stuckRun: { runId: latest.runId, step: latest.step, startedAt: latest.startedAt },
        detail: `run ${latest.runId} has been "running" (at ${latest.step}) since ${latest.startedAt}, past deadline + grace: taken as stuck`,
      };
    }
    return { ...expected, ...none, ...run, state: 'RUNNING', detail: `run ${latest.runId} at ${latest.step} since ${latest.startedAt}` };
  }
  if (latest && (latest.status === 'failed' || latest.status === 'validation-failed')) {
    const kind = latest.status === 'validation-failed' ? 'validation' : 'error';
    const message = firstLine(latest.error?.message ?? (kind === 'validation' ? 'checks failed' : 'failed'));
    const failing = (latest.validation?.checks ?? []).filter((c) => c.outcome === 'fail' || c.outcome === 'error');
    // The error's first line ends at "nothing was published:"; the checks themselves say what failed.
    const said =
      failing.length > 0 ? failing.map((c) => `${c.name} ${c.outcome === 'error' ? 'could not run' : 'failed'}: ${firstLine(c.message)}`).join('; ') : message;
    return {
      ...expected,
      ...none,
      runId: latest.runId,
      revision: latest.revision,
      validation: latest.validation?.status ?? null,
      state: 'FAILED',
      failure: {
        kind,
        runId: latest.runId,
        step: latest.step,
        name: latest.error?.name ?? (kind === 'validation' ? 'ValidationFailedError' : 'Error'),
        message,
        checks: failing.map((c) => ({ name: c.name, type: c.type, severity: c.severity, outcome: c.outcome, message: c.message })),
      },
      detail: `${kind === 'validation' ? 'validation failed' : `error at ${latest.step}`}: ${kind === 'validation' ? said : message}`,
    };
  }
  if (missed)
    return {
      ...expected,
      ...none,
      state: 'MISSED',
      detail: `not delivered: due by ${expected.expectedBy}, missed since ${expected.missedAt}; no run is recorded`,
    };
  if (t >= Date.parse(expected.warnAt ?? expected.expectedBy)) {
    return { ...expected, ...none, state: 'AT_RISK', detail: `not delivered yet, due by ${expected.expectedBy}` };
  }
  return { ...expected, ...none, state: 'PENDING', detail: `not due yet (due by ${expected.expectedBy})` };
}

/**
 * A published slot of a feed that counts delivery at its destinations (sla.deliveredWhen):
 * delivered when the last destination of a revision got it, judged against the deadline; until
 * then RUNNING, AT_RISK once a destination failed or the warn point passed, MISSED past deadline +
 * grace, with the destination named and the fix. A drop without destinations counts when published.
 */
function atDestinations(published: SlotStatus, drops: readonly { manifest: Manifest | undefined; record: RunRecord | undefined }[], now: Date): SlotStatus {
  const judged = drops.map((d) => destinationOutcomes(d.manifest, d.record));
  if (judged.every((o) => o.length === 0)) return published;
  const newest = judged[judged.length - 1];
  const arrived = judged
    .map(arrivedAt)
    .filter((at): at is string => at !== null)
    .sort()[0];
  if (arrived) {
    const outcome = slaOutcome(new Date(published.expectedBy), new Date(arrived));
    const names = newest.map((o) => o.destination).join(', ');
    return {
      ...published,
      state: outcome.status,
      deliveredAt: arrived,
      latenessSeconds: outcome.latenessSeconds,
      detail: `at its destinations (${names}) ${outcome.status === 'MET' ? 'on time' : `${humanDuration(outcome.latenessSeconds)} late`}`,
      destinations: newest,
    };
  }
  const t = now.getTime();
  const failed = newest.some((o) => o.status === 'failed');
  const state = t >= Date.parse(published.missedAt) ? 'MISSED' : failed || t >= Date.parse(published.warnAt ?? published.expectedBy) ? 'AT_RISK' : 'RUNNING';
  return {
    ...published,
    state,
    deliveredAt: null,
    latenessSeconds: null,
    detail: `published ${published.deliveredAt}, not at its destinations: ${missingAtDestinations(newest, published.feed)}`,
    destinations: newest,
  };
}

/**
 * What partners should hear about a slot not yet delivered, whatever the reason (no run, a failed
 * or a stuck run): at risk past the warn point (or deadline), missed past deadline + grace.
 */
export function delayPhase(status: SlotStatus, now: Date): 'at_risk' | 'missed' | null {
  if (status.state === 'MET' || status.state === 'LATE' || status.state === 'NOT_EXPECTED') return null;
  const t = now.getTime();
  if (t >= Date.parse(status.missedAt)) return 'missed';
  if (t >= Date.parse(status.warnAt ?? status.expectedBy)) return 'at_risk';
  return null;
}
