import type { FeedDefinition } from '../core/feed/feed-definition';
import { parseCron } from '../core/cron';
import { slotsBetween } from '../core/slots';
import { UsageError } from '../core/errors';
import { refuseSlotsPastRetention } from '../core/steps/retention';
import type { RunDeps, RunOutcome } from './run-slot';
import { runSlot } from './run-slot';

export interface BackfillRequest {
  readonly feed: FeedDefinition;
  readonly partners: readonly (string | null)[];
  readonly from: Date;
  readonly to: Date;
  /** Go on with the next slot after a failure (default: stop at the first). */
  readonly continueOnFailure?: boolean;
}

export interface BackfillSummary {
  readonly total: number;
  readonly delivered: number;
  readonly skipped: number;
  readonly failed: number;
  /** Slots never attempted because the backfill stopped at a failure. */
  readonly notRun: number;
  readonly outcomes: readonly RunOutcome[];
}

/**
 * Every slot of [from, to] that is due by now, oldest first, for each partner. Delivered slots are
 * skipped (a backfill never delivers twice); a failure stops the backfill unless asked to go on.
 */
export async function backfill(
  request: BackfillRequest,
  deps: RunDeps,
  onSlot?: (done: number, total: number, outcome?: RunOutcome) => void,
): Promise<BackfillSummary> {
  const { feed } = request;
  if (request.from.getTime() > request.to.getTime()) throw new UsageError(`--from ${request.from.toISOString()} is after --to ${request.to.toISOString()}`);
  const now = deps.clock.now();
  const to = new Date(Math.min(request.to.getTime(), now.getTime()));
  const slots = to.getTime() < request.from.getTime() ? [] : slotsBetween(parseCron(feed.spec.schedule.cron), feed.spec.schedule.timezone, request.from, to);
  if (slots.length === 0) {
    throw new UsageError(
      `no slot of ${feed.spec.name} (cron "${feed.spec.schedule.cron}" in ${feed.spec.schedule.timezone}) is due between ${request.from.toISOString()} and ${to.toISOString()}`,
    );
  }
  // Refused whole, before the first slot runs: not delivered and announced, then expired as old news.
  refuseSlotsPastRetention(feed, slots, now);
  const runs = slots.flatMap((slot) => request.partners.map((partner) => ({ slot, partner })));
  const outcomes: RunOutcome[] = [];
  onSlot?.(0, runs.length);
  for (const run of runs) {
    const outcome = await runSlot({ feed: feed.spec.name, partner: run.partner, slot: run.slot }, deps);
    outcomes.push(outcome);
    onSlot?.(outcomes.length, runs.length, outcome);
    if (isFailure(outcome) && !request.continueOnFailure) break;
  }
  const count = (f: (o: RunOutcome) => boolean) => outcomes.filter(f).length;
  return {
    total: runs.length,
    delivered: count((o) => o.status === 'delivered'),
    skipped: count((o) => o.status === 'already-delivered' || o.status === 'busy'),
    failed: count(isFailure),
    notRun: runs.length - outcomes.length,
    outcomes,
  };
}

function isFailure(o: RunOutcome): boolean {
  return o.status === 'failed' || o.status === 'validation-failed';
}
