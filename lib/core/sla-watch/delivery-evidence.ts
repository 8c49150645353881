import type { ObjectStore } from '../../ports/object-store';
import { DropCoordinates, feedRoot, parseDropKey, partnerRunRecordsPrefix } from '../layout';
import type { Manifest } from '../manifest';
import type { RunRecord } from '../run-record';

/** What the store holds about one slot: its delivered manifests (oldest revision first) and its runs (oldest first). */
export interface SlotEvidence {
  readonly manifests: readonly { readonly key: string; readonly manifest: Manifest }[];
  readonly runs: readonly RunRecord[];
}

const EMPTY: SlotEvidence = { manifests: [], runs: [] };

export function evidenceOf(map: ReadonlyMap<string, SlotEvidence>, slot: string): SlotEvidence {
  return map.get(slot) ?? EMPTY;
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const got = await store.get(key);
  return got ? (JSON.parse(got.body.toString('utf8')) as T) : undefined;
}

/**
 * Reads the manifests and run records of one feed and partner whose slot id lies in [fromSlot,
 * toSlot] (slot ids sort as times). One listing each for drops and runs, then one read per object
 * in range: the watch reads a bounded window, never the whole history.
 */
export async function readSlotEvidence(store: ObjectStore, c: DropCoordinates, fromSlot: string, toSlot: string): Promise<Map<string, SlotEvidence>> {
  const manifests = new Map<string, { key: string; manifest: Manifest }[]>();
  const runs = new Map<string, RunRecord[]>();
  const inRange = (slot: string) => slot >= fromSlot && slot <= toSlot;
  const root = feedRoot(c);
  for await (const o of store.list(`${root}slot=`)) {
    const key = parseDropKey(o.key.slice(root.length));
    // A shared feed's root does not hold partner folders, but guard against a nested match anyway.
    if (!key || !inRange(key.slotId) || o.key.slice(root.length).includes('partner=')) continue;
    const manifest = await readJson<Manifest>(store, o.key);
    if (manifest) manifests.set(key.slotId, [...(manifests.get(key.slotId) ?? []), { key: o.key, manifest }]);
  }
  const runsRoot = partnerRunRecordsPrefix(c);
  for await (const o of store.list(`${runsRoot}slot=`)) {
    const m = /^slot=([^/]+)\/[^/]+\.json$/.exec(o.key.slice(runsRoot.length));
    if (!m || !inRange(m[1])) continue;
    const record = await readJson<RunRecord>(store, o.key);
    if (record) runs.set(m[1], [...(runs.get(m[1]) ?? []), record]);
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
