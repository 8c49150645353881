import type { ObjectStore } from '../ports/object-store';
import {
  DropCoordinates,
  feedRoot,
  inPartnerFolder,
  parseDropKey,
  partnerRunRecordsPrefix,
  slotOfRunRecordPath,
  slotsPrefix,
  slotsUnder,
  slotUnder,
} from '../layout';
import type { Manifest } from '../manifest';
import { parseRunRecord, RunRecord } from '../run-record';
import { manifestSchema } from '../manifest-schema';
import { readStoreJson } from '../store-json';

/** What the store holds about one slot: its delivered manifests (oldest revision first) and its runs (oldest first). */
export interface SlotEvidence {
  readonly manifests: readonly { readonly key: string; readonly manifest: Manifest }[];
  readonly runs: readonly RunRecord[];
}

const EMPTY: SlotEvidence = { manifests: [], runs: [] };

export function evidenceOf(map: ReadonlyMap<string, SlotEvidence>, slot: string): SlotEvidence {
  return map.get(slot) ?? EMPTY;
}

/** Up to this many slots, each slot's folder is listed on its own; beyond, the feed's whole folder once. */
const PER_SLOT_LISTING_LIMIT = 200;

/** Lists every key under `prefix` + each slot, or under `prefix` once when there are many slots. */
async function* listSlots(store: ObjectStore, prefix: string, slots: readonly string[]): AsyncIterable<string> {
  if (slots.length > PER_SLOT_LISTING_LIMIT) {
    for await (const o of store.list(slotsUnder(prefix))) yield o.key;
    return;
  }
  for (const slot of slots) for await (const o of store.list(slotUnder(prefix, slot))) yield o.key;
}

/**
 * Reads the manifests and run records of one feed and partner for the given slot ids (slot ids
 * sort as times). A short window lists each slot's folder; a long one lists the feed's folder once
 * (fewer calls than one per slot); then one read per object of a wanted slot: the watch reads a
 * bounded window, never the whole history.
 */
export async function readSlotEvidence(store: ObjectStore, c: DropCoordinates, slots: readonly string[]): Promise<Map<string, SlotEvidence>> {
  const manifests = new Map<string, { key: string; manifest: Manifest }[]>();
  const runs = new Map<string, RunRecord[]>();
  const wanted = new Set(slots);
  const inRange = (slot: string) => wanted.has(slot);
  const root = feedRoot(c);
  for await (const objectKey of listSlots(store, root, slots)) {
    const drop = parseDropKey(objectKey.slice(root.length));
    // A shared feed's root does not hold partner folders, but guard against a nested match anyway.
    if (!drop || !inRange(drop.slotId) || inPartnerFolder(objectKey.slice(root.length))) continue;
    const manifest = await readStoreJson(store, objectKey, manifestSchema);
    if (manifest) manifests.set(drop.slotId, [...(manifests.get(drop.slotId) ?? []), { key: objectKey, manifest }]);
  }
  const runsRoot = partnerRunRecordsPrefix(c);
  for await (const objectKey of listSlots(store, runsRoot, slots)) {
    const slot = slotOfRunRecordPath(objectKey.slice(runsRoot.length));
    if (!slot || !inRange(slot)) continue;
    const text = await store.get(objectKey).catch(() => undefined);
    const record = text ? parseRunRecord(text.body, objectKey) : undefined;
    if (record) runs.set(slot, [...(runs.get(slot) ?? []), record]);
  }
  const out = new Map<string, SlotEvidence>();
  for (const slot of new Set([...manifests.keys(), ...runs.keys()])) {
    out.set(slot, {
      manifests: (manifests.get(slot) ?? []).sort((a, b) => a.manifest.revision - b.manifest.revision),
      runs: (runs.get(slot) ?? []).sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.revision - b.revision),
    });
  }
  return out;
}

/** The first key under `prefix` that `pick` maps to a slot id; keys come sorted, so the first is the oldest. */
async function firstSlotUnder(store: ObjectStore, prefix: string, pick: (rest: string) => string | undefined): Promise<string | null> {
  for await (const o of store.list(slotsUnder(prefix))) {
    const slot = pick(o.key.slice(prefix.length));
    if (slot) return slot;
  }
  return null;
}

/** The oldest slot of a feed (and partner) with a delivered manifest or a run record, or null. */
export async function firstRecordedSlot(store: ObjectStore, c: DropCoordinates): Promise<string | null> {
  const root = feedRoot(c);
  const dropped = await firstSlotUnder(store, root, (rest) => (inPartnerFolder(rest) ? undefined : parseDropKey(rest)?.slotId));
  const ran = await firstSlotUnder(store, partnerRunRecordsPrefix(c), slotOfRunRecordPath);
  if (dropped === null || ran === null) return dropped ?? ran;
  return dropped < ran ? dropped : ran;
}

/**
 * Slot ids with a delivered manifest in [from, to] (slot ids sort as times) that are not in
 * `expected`: drops of an earlier schedule or time zone, which the current cron no longer names.
 * Lists the feed's whole folder once: for history and the report, not the watch.
 */
export async function unscheduledDeliveredSlots(
  store: ObjectStore,
  c: DropCoordinates,
  from: string,
  to: string,
  expected: ReadonlySet<string>,
): Promise<string[]> {
  const root = feedRoot(c);
  const found = new Set<string>();
  for await (const o of store.list(slotsPrefix(c))) {
    const rest = o.key.slice(root.length);
    const slot = inPartnerFolder(rest) ? undefined : parseDropKey(rest)?.slotId;
    if (slot && slot >= from && slot <= to && !expected.has(slot)) found.add(slot);
  }
  return [...found].sort();
}
