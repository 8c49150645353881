import type { Clock } from '../ports/clock';
import type { DestinationRecord, RowReader } from '../ports/destination';
import type { ObjectStore } from '../ports/object-store';
import type { FeedDefinition } from '../feed/feed-definition';
import { leaseKey, runRecordKey } from '../layout';
import { leaseFence, type AttemptLease } from '../lease';
import { PUSH_PENDING } from '../run-record';
import type { DeliveredRef } from '../steps/run-plan';
import { readRunRecord, writeRunRecord } from '../run-record-store';
import type { ChangeEngine } from './change-engine';
import { deliverDestinations } from './deliver';
import { destinationPlans, destinationSpecs, type DestinationBuilder } from './plans';

export interface PushDeps {
  readonly store: ObjectStore;
  readonly clock: Clock;
  /** How this edge builds adapters for a feed (secrets, project folder). */
  readonly destinationBuilder: (feed: FeedDefinition) => DestinationBuilder;
  readonly rows?: RowReader;
  readonly changes?: ChangeEngine;
}

/**
 * The notify step's push: every destination of the feed and the drop's partner, then their records
 * into the run record (`destinations`). One call for the step to make after the commit point;
 * never throws for a destination that fails (that is in its record).
 *
 * With `lease` (the attempt that holds the slot), the push renews it as it goes, so a push longer
 * than the lease's TTL keeps the slot; once another attempt owns it, the push stops and the
 * destinations left are recorded failed (pending), for the next run of the slot or `dropkit repair`.
 *
 * @example
 * const records = await pushDrop(ref, feeds.get(ref.feed), { store, clock, destinationBuilder: (f) => destinationFactory({ feedFile: f.file, projectDir }) });
 */
export async function pushDrop(ref: DeliveredRef, feed: FeedDefinition, deps: PushDeps, lease?: AttemptLease): Promise<DestinationRecord[]> {
  const specs = destinationSpecs(feed.spec, ref.partner);
  if (specs.length === 0) return [];
  const key = runRecordKey(ref, ref.slot, ref.runId);
  // Written after each destination: a push that dies half-way leaves the outcomes it had.
  const keep = async (records: readonly DestinationRecord[]) => {
    const record = await readRunRecord(deps.store, key);
    if (!record) return;
    const destinations = mergeRecords(record.destinations ?? [], records);
    // A destination that failed is work left after the commit point: `dropkit repair` pushes again.
    const pending = [
      ...record.pending.filter((p) => !p.startsWith(PUSH_PENDING)),
      ...destinations.filter((d) => d.status === 'failed').map((d) => `${PUSH_PENDING}${d.destination} failed: ${d.errors[0]?.message ?? 'unknown error'}`),
    ];
    await writeRunRecord(deps.store, key, { ...record, destinations, pending });
  };
  const fence = lease ? leaseFence(deps.store, leaseKey(ref, ref.slot), lease, deps.clock) : undefined;
  return deliverDestinations(ref, { ...deps, destinations: destinationPlans(specs, deps.destinationBuilder(feed)), onRecord: keep, fence });
}

/** The newest record of each destination, in the order first recorded; records of destinations not reached this time stay. */
function mergeRecords(before: readonly DestinationRecord[], now: readonly DestinationRecord[]): DestinationRecord[] {
  const fresh = new Map(now.map((r) => [r.destination, r]));
  const known = new Set(before.map((r) => r.destination));
  return [...before.map((r) => fresh.get(r.destination) ?? r), ...now.filter((r) => !known.has(r.destination))];
}

/** Whether a partner has the drop where the feed pushes it: every destination delivered it (rows rejected by an API included). */
export function deliveredToDestinations(records: readonly DestinationRecord[]): boolean {
  return records.every((r) => r.status === 'delivered' || r.status === 'partial');
}
