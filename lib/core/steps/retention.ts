import type { ObjectStore } from '../ports/object-store';
import { UsageError } from '../errors';
import type { FeedDefinition } from '../feed/feed-definition';
import { DropCoordinates, feedRoot, latestKey, leaseKey, parseDropKey, slotOfFeedPath, slotPrefix, slotsPrefix } from '../layout';
import { acquireLease, releaseLease, LeaseOptions } from '../lease';
import { parseStoreJson, readStoreJson } from '../store-json';
import { latestPointerSchema, manifestSchema } from '../manifest-schema';

const DAY_MS = 86400_000;

/** The time before which a slot (by its scheduled time) is past retention. */
export function retentionCutoff(days: number, now: Date): number {
  return now.getTime() - days * DAY_MS;
}

/**
 * Deletes whole slots past retention. A slot goes only when all of these hold:
 * - its scheduled time is older than `days` (the retention window);
 * - it is not the slot `latest.json` points at, nor `keepSlot` (the run's own);
 * - none of its drops was delivered within the last `days` (the window's grace: a backfilled or
 *   rerun drop, just announced with links, stays as long as a new drop would);
 * - no attempt holds its lease: retention takes the lease itself, so a run in flight (which holds
 *   it from plan to notify) keeps its slot, and no run can start in a slot while it is deleted.
 * Manifests go first, so no reader ever finds a manifest whose files are gone (a torn drop). Run
 * records stay: they are the delivery history (`sla`, `history`, the report read them).
 */
export async function expireDrops(
  store: ObjectStore,
  c: DropCoordinates,
  days: number,
  now: Date,
  options: { readonly keepSlot?: string; readonly lease: LeaseOptions; readonly attemptId: string },
): Promise<string[]> {
  const root = feedRoot(c);
  const pointed = (await readStoreJson(store, latestKey(c), latestPointerSchema))?.slot;
  const cutoff = retentionCutoff(days, now);
  const slots = new Map<string, string[]>();
  for await (const o of store.list(slotsPrefix(c))) {
    const slot = slotOfFeedPath(o.key.slice(root.length));
    if (slot) slots.set(slot, [...(slots.get(slot) ?? []), o.key]);
  }
  const expired: string[] = [];
  for (const [slot, keys] of slots) {
    if (slot === pointed || slot === options.keepSlot || slotTime(slot) >= cutoff) continue;
    const manifests = keys.filter((k) => parseDropKey(k.slice(root.length)));
    if (await deliveredSince(store, manifests, cutoff)) continue;
    const key = leaseKey(c, slot);
    const lease = await acquireLease(store, key, { attemptId: `${options.attemptId}.retention`, runId: `retention:${slot}` }, now, options.lease);
    if (!lease.acquired) continue; // a run of this slot is in flight: its drop is not ours to judge
    try {
      // Under the slot's lease: a run that delivered between our listing and the lease is seen now.
      const fresh: string[] = [];
      for await (const o of store.list(slotPrefix(c, slot))) if (parseDropKey(o.key.slice(root.length))) fresh.push(o.key);
      if (await deliveredSince(store, fresh, cutoff)) {
        await releaseLease(store, lease.held);
        continue;
      }
      for (const m of fresh) await store.delete(m);
      await store.deletePrefix(slotPrefix(c, slot));
      // The lease goes last: no attempt could run the slot while its files went.
      await store.delete(key);
    } catch (error) {
      // A slot half deleted has no manifest left (they went first); its lease must not outlive us.
      await releaseLease(store, lease.held).catch(() => undefined);
      throw error;
    }
    expired.push(slotPrefix(c, slot));
  }
  return expired;
}

async function deliveredSince(store: ObjectStore, manifestKeys: readonly string[], cutoff: number): Promise<boolean> {
  for (const key of manifestKeys) {
    const got = await store.get(key);
    if (!got) continue;
    const m = parseStoreJson(key, got.body, manifestSchema);
    if (Date.parse(m.sla.deliveredAt) >= cutoff) return true;
  }
  return false;
}

/**
 * The slots of a backfill that retention would count as expired the moment they are delivered:
 * refused before the first slot runs, naming them and the fix, rather than delivered, announced
 * with links, and deleted `days` later as if they were old news.
 */
export function refuseSlotsPastRetention(feed: FeedDefinition, slots: readonly Date[], now: Date): void {
  const days = feed.spec.retention?.days;
  if (!days) return;
  const cutoff = retentionCutoff(days, now);
  const old = slots.filter((s) => s.getTime() < cutoff);
  if (old.length === 0) return;
  const oldest = old[0].toISOString();
  const newest = old[old.length - 1].toISOString();
  throw new UsageError(
    `${old.length} slot(s) of ${feed.spec.name} in this backfill (${oldest === newest ? oldest : `${oldest} … ${newest}`}) are older than its retention ` +
      `(retention.days: ${days}, so slots before ${new Date(cutoff).toISOString()}); nothing was run. ` +
      `Raise retention.days in ${feed.file} to cover them, or start the backfill at --from ${new Date(cutoff).toISOString()} or later`,
  );
}

function slotTime(id: string): number {
  return Date.parse(`${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`);
}
