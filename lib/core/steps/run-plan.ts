import { deliveredRefOf } from '../graph/delivered-ref';
import type { FeedDefinition } from '../feed/feed-definition';
import type { ParameterValue } from '../feed/feed-schema';
import type { ObjectStore } from '../ports/object-store';
import type { Clock } from '../ports/clock';
import type { QueryParameter } from '../ports/query-engine';
import type { PreviousDrop } from '../checks/check-types';
import type { Profile } from '../profile/profile';
import { parseCron } from '../cron';
import { UsageError } from '../errors';
import {
  DropCoordinates,
  dropPrefix,
  feedRoot,
  latestKey,
  leaseKey,
  manifestKey,
  parseDropKey,
  runRecordKey,
  runStagingRoot,
  slotPrefix,
  slotsPrefix,
} from '../layout';
import type { SlotInfo } from '../manifest';
import { deriveRunId } from '../run-id';
import { deadlineFor, warnAtFor } from '../sla';
import { dataInterval, isSlot, latestSlotAtOrBefore, nextSlot, previousSlot, slotId } from '../slots';
import { parseStoreJson, readStoreJson } from '../store-json';
import { latestPointerSchema, manifestSchema } from '../manifest-schema';

/** Everything a run needs to know up front. Plain JSON: on AWS it is the state machine's input. */
export interface RunPlan {
  readonly feed: string;
  readonly partner: string | null;
  /** Key prefix of the project in the store (may be empty). */
  readonly prefix: string;
  readonly runId: string;
  readonly revision: number;
  readonly supersedes: string | null;
  readonly slot: SlotInfo;
  readonly sla: { readonly expectedBy: string; readonly warnAt: string | null };
  readonly parameters: readonly QueryParameter[];
  readonly keys: {
    readonly drop: string;
    readonly manifest: string;
    readonly latest: string;
    readonly runRecord: string;
    readonly lease: string;
    /** Holds the staging prefix of every attempt of this run. */
    readonly stagingRoot: string;
  };
  readonly plannedAt: string;
}

export interface PlanRequest {
  readonly feed: FeedDefinition;
  /** Key prefix in the store (may be empty). */
  readonly prefix: string;
  readonly partner: string | null;
  /** Default: the latest slot that is due. */
  readonly slot?: Date;
  /** Deliver again as a new revision that supersedes the delivered one. */
  readonly rerun?: boolean;
}

export type PlanResult = { readonly status: 'planned'; readonly plan: RunPlan } | { readonly status: 'already-delivered'; readonly delivered: DeliveredRef };

/** A delivered run, enough to find everything of it. */
export interface DeliveredRef {
  readonly feed: string;
  readonly partner: string | null;
  readonly prefix: string;
  readonly slot: string;
  readonly runId: string;
  readonly revision: number;
  readonly manifestKey: string;
}

export interface DeliveredRevision {
  readonly key: string;
  readonly runId: string;
  readonly revision: number;
  readonly rowCount: number;
  readonly profile: Profile | null;
}

/** Every delivered revision of a slot, newest last. A drop counts as delivered only when its manifest exists. */
export async function deliveredRevisions(store: ObjectStore, c: DropCoordinates, slot: string): Promise<DeliveredRevision[]> {
  const found: DeliveredRevision[] = [];
  for await (const o of store.list(slotPrefix(c, slot))) {
    if (!parseDropKey(o.key)) continue;
    const got = await store.get(o.key);
    if (!got) continue;
    const m = parseStoreJson(o.key, got.body, manifestSchema);
    found.push({ key: o.key, runId: m.runId, revision: m.revision, rowCount: m.rowCount, profile: m.profile ?? null });
  }
  return found.sort((a, b) => a.revision - b.revision);
}

/**
 * The newest delivered drop of the same feed and partner before this slot (row-count change
 * checks compare against it). Backfills look before their own slot, not at latest.json.
 */
export async function previousDrop(store: ObjectStore, c: DropCoordinates, slot: string): Promise<PreviousDrop | null> {
  const root = feedRoot(c);
  // The usual run is the newest slot: latest.json already names the drop before it.
  const pointer = await readStoreJson(store, latestKey(c), latestPointerSchema);
  let previousSlot = pointer && pointer.slot < slot ? pointer.slot : undefined;
  if (!previousSlot) {
    for await (const o of store.list(slotsPrefix(c))) {
      const key = parseDropKey(o.key.slice(root.length));
      if (key && key.slotId < slot && (!previousSlot || key.slotId > previousSlot)) previousSlot = key.slotId;
    }
  }
  if (!previousSlot) return null;
  const delivered = await deliveredRevisions(store, c, previousSlot);
  const newest = delivered[delivered.length - 1];
  return newest ? { runId: newest.runId, slot: previousSlot, rowCount: newest.rowCount, profile: newest.profile } : null;
}

export async function planRun(request: PlanRequest, deps: { store: ObjectStore; clock: Clock }): Promise<PlanResult> {
  const { feed, prefix, partner } = request;
  const spec = feed.spec;
  checkPartner(feed, partner);
  const cron = parseCron(spec.schedule.cron);
  const tz = spec.schedule.timezone;
  const now = deps.clock.now();

  const slot = request.slot ?? latestSlotAtOrBefore(cron, tz, now);
  if (!isSlot(cron, tz, slot)) {
    const before = previousSlot(cron, tz, slot).toISOString();
    const after = nextSlot(cron, tz, slot).toISOString();
    throw new UsageError(`${slot.toISOString()} is not a slot of ${spec.name} (cron "${spec.schedule.cron}" in ${tz}); the nearest are ${before} and ${after}`);
  }
  if (slot.getTime() > now.getTime()) {
    throw new UsageError(`slot ${slot.toISOString()} of ${spec.name} is in the future: its data interval has not ended yet`);
  }
  const id = slotId(slot);
  const coordinates: DropCoordinates = { prefix, feed: spec.name, partner };
  const delivered = await deliveredRevisions(deps.store, coordinates, id);
  const current = delivered[delivered.length - 1];
  if (current && !request.rerun) {
    return {
      status: 'already-delivered',
      delivered: deliveredRefOf({ feed: spec.name, partner, prefix, slot: { id }, runId: current.runId, revision: current.revision }, current.key),
    };
  }
  await refuseExpiredSlot(feed, slot, now, deps.store, coordinates);
  const revision = current ? current.revision + 1 : 1;
  const runId = deriveRunId(spec.name, partner, id, revision);
  const interval = dataInterval(cron, tz, slot);
  const warnAt = warnAtFor(spec.sla, slot);
  return {
    status: 'planned',
    plan: {
      feed: spec.name,
      partner,
      prefix,
      runId,
      revision,
      supersedes: current?.runId ?? null,
      slot: {
        id,
        scheduledFor: slot.toISOString(),
        dataInterval: { start: interval.start.toISOString(), end: interval.end.toISOString() },
        timezone: tz,
        cron: spec.schedule.cron,
      },
      sla: { expectedBy: deadlineFor(spec.sla, slot, tz).toISOString(), warnAt: warnAt ? warnAt.toISOString() : null },
      parameters: bindParameters(feed, partner, slot, interval),
      keys: {
        drop: dropPrefix(coordinates, id, runId),
        manifest: manifestKey(coordinates, id, runId),
        latest: latestKey(coordinates),
        runRecord: runRecordKey(coordinates, id, runId),
        lease: leaseKey(coordinates, id),
        stagingRoot: runStagingRoot(prefix, runId),
      },
      plannedAt: now.toISOString(),
    },
  };
}

/**
 * Retention would delete a slot this old as soon as a newer drop is delivered (a notice would go
 * out with links to files about to go), so a backfill of such a slot is refused up front. The
 * newest slot stays whatever its age: retention never deletes what latest.json points at.
 */
async function refuseExpiredSlot(feed: FeedDefinition, slot: Date, now: Date, store: ObjectStore, c: DropCoordinates): Promise<void> {
  const days = feed.spec.retention?.days;
  if (!days) return;
  const cutoff = now.getTime() - days * 86400_000;
  if (slot.getTime() >= cutoff) return;
  const latest = await readStoreJson(store, latestKey(c), latestPointerSchema);
  const newer = latest && latest.scheduledFor > slot.toISOString();
  if (newer) {
    throw new UsageError(
      `slot ${slot.toISOString()} of ${feed.spec.name} is older than its retention (retention.days: ${days}), so it would be deleted as soon as it was delivered; ` +
        `raise retention.days in ${feed.file} to cover it, or leave this slot out of the backfill`,
    );
  }
}

function checkPartner(feed: FeedDefinition, partner: string | null): void {
  const spec = feed.spec;
  if (spec.delivery === 'shared' && partner !== null) {
    throw new UsageError(`${spec.name} is delivered once for all partners (delivery: shared); run it without --partner`);
  }
  if (spec.delivery === 'per-partner') {
    const ids = spec.partners.map((p) => p.id);
    if (partner === null) throw new UsageError(`${spec.name} is delivered per partner; give --partner (one of ${ids.join(', ')})`);
    if (!ids.includes(partner)) throw new UsageError(`${partner} is not a partner of ${spec.name} (partners: ${ids.join(', ')})`);
  }
}

/** The run's parameters: the window and slot, the partner, then feed values overridden by the partner's. */
export function bindParameters(feed: FeedDefinition, partner: string | null, slot: Date, interval: { start: Date; end: Date }): QueryParameter[] {
  const params: QueryParameter[] = [
    { name: 'window_start', type: 'TIMESTAMP', value: interval.start.toISOString() },
    { name: 'window_end', type: 'TIMESTAMP', value: interval.end.toISOString() },
    { name: 'slot', type: 'TIMESTAMP', value: slot.toISOString() },
  ];
  if (partner !== null) params.push({ name: 'partner_id', type: 'VARCHAR', value: partner });
  const own = feed.spec.partners.find((p) => p.id === partner)?.parameters ?? {};
  const merged: Record<string, ParameterValue> = { ...(feed.spec.parameters ?? {}), ...own };
  for (const [name, value] of Object.entries(merged)) params.push({ name, ...typed(value) });
  return params;
}

function typed(value: ParameterValue): Pick<QueryParameter, 'type' | 'value'> {
  if (typeof value === 'boolean') return { type: 'BOOLEAN', value };
  if (typeof value === 'number') return { type: Number.isInteger(value) ? 'BIGINT' : 'DOUBLE', value };
  return { type: 'VARCHAR', value };
}
