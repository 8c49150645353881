import { deliveredRefOf } from '../graph/delivered-ref';
import { acquireLease, isHeld, readLease, releaseLease } from '../lease';
import { latestKey, leaseKey, manifestKey, runRecordKey, runRecordsPrefix, runStagingRoot, dropPrefix } from '../layout';
import { PUSH_PENDING, type RunRecord } from '../run-record';
import { sha256Hex } from '../hash';
import { destinationSpecs } from '../destinations/plans';
import { notifyStep, NotifyResult } from './notify';
import type { DeliveredRef } from './run-plan';
import { readRunRecord, writeRunRecord } from '../run-record-store';
import { rollForward } from './roll-forward';
import type { StepDeps } from './step-deps';
import { parseStoreJson, readStoreJson } from '../store-json';
import { latestPointerSchema, manifestSchema } from '../manifest-schema';

export interface RepairResult {
  readonly runId: string;
  readonly action: 'none' | 'rolled-forward' | 'abandoned' | 'busy';
  readonly pending: readonly string[];
  readonly notice?: NotifyResult['status'];
}

type RepairDeps = Pick<StepDeps, 'store' | 'clock' | 'feeds' | 'lease' | 'newAttemptId' | 'signer' | 'consumers' | 'push'>;

/** Whether the drop's destinations still lack it (a push that failed, or never ran), where this edge can push. */
function pushLeft(ref: DeliveredRef, record: RunRecord | undefined, deps: RepairDeps): boolean {
  let specs;
  try {
    specs = destinationSpecs(deps.feeds.get(ref.feed).spec, ref.partner);
  } catch {
    return false; // a feed no longer in the project: nothing to push it with
  }
  if (!deps.push || specs.length === 0) return false;
  return !record?.destinations || record.destinations.some((d) => d.status === 'failed');
}

/**
 * Finishes a delivered run that died after its commit point: the pointer, retention, staging,
 * run record, and the delivered notice if it never went out. Takes the slot's lease while it
 * works, so two repairers (or a repairer and a rerun) do not send the notice twice.
 */
export async function repairDelivered(ref: DeliveredRef, deps: RepairDeps): Promise<RepairResult> {
  const { store } = deps;
  const c = { prefix: ref.prefix, feed: ref.feed, partner: ref.partner };
  const record = await readRunRecord(store, runRecordKey(c, ref.slot, ref.runId));
  const pointed = await readStoreJson(store, latestKey(c), latestPointerSchema);
  const pointerBehind = !pointed || pointed.slot < ref.slot || (pointed.slot === ref.slot && pointed.revision < ref.revision);
  const pushing = pushLeft(ref, record ?? undefined, deps);
  if (record?.status === 'delivered' && record.noticeSent && record.pending.length === 0 && !pointerBehind && !pushing)
    return { runId: ref.runId, action: 'none', pending: [] };

  const lease = await acquireLease(store, leaseKey(c, ref.slot), { attemptId: deps.newAttemptId(), runId: ref.runId }, deps.clock.now(), deps.lease);
  if (!lease.acquired) return { runId: ref.runId, action: 'busy', pending: [] };
  try {
    const got = await store.get(ref.manifestKey);
    if (!got) throw new Error(`${ref.manifestKey} vanished while repairing run ${ref.runId}`);
    const manifest = parseStoreJson(ref.manifestKey, got.body, manifestSchema);
    const rolled = await rollForward(
      { plan: { prefix: ref.prefix }, attemptId: lease.held.attemptId },
      { manifest, manifestKey: ref.manifestKey, manifestSha256: sha256Hex(got.body) },
      deps,
    );
    // `dropkit repair` resumes a push left unfinished (the step graph's pushRepaired node does it for a run, which repairs without a push).
    if (pushing) await deps.push!(ref, deps.feeds.get(ref.feed), { attemptId: lease.held.attemptId, ttlSeconds: deps.lease.ttlSeconds });
    const notice = await notifyStep(ref, deps);
    // A destination still without the drop stays pending (pushDrop records it in the run record).
    const pushes = ((await readRunRecord(store, runRecordKey(c, ref.slot, ref.runId)))?.pending ?? []).filter((p) => p.startsWith(PUSH_PENDING));
    return { runId: ref.runId, action: 'rolled-forward', pending: [...rolled.pending, ...pushes], notice: notice.status };
  } finally {
    await releaseLease(store, lease.held);
  }
}

/**
 * `dropkit repair`: every run record of the project (or of one feed) that is not finished. A
 * delivered run is rolled forward; a run that died before its commit point, and whose lease no
 * live attempt holds, is recorded as failed and its leftovers removed.
 */
export async function repairAll(
  input: {
    readonly prefix: string;
    readonly feed?: string;
    /** With `feed`: only this slot of this partner. */ readonly slot?: { readonly id: string; readonly partner: string | null };
  },
  deps: RepairDeps,
): Promise<RepairResult[]> {
  const { store } = deps;
  const results: RepairResult[] = [];
  const keys: string[] = [];
  const records =
    input.feed && input.slot
      ? slotRecordsPrefix({ prefix: input.prefix, feed: input.feed, partner: input.slot.partner }, input.slot.id)
      : runRecordsPrefix(input.prefix, input.feed);
  for await (const o of store.list(records)) if (o.key.endsWith('.json')) keys.push(o.key);
  for (const key of keys) {
    const record = await readRunRecord(store, key);
    if (!record) continue;
    const c = { prefix: input.prefix, feed: record.feed, partner: record.partner };
    const mKey = manifestKey(c, record.slot, record.runId);
    if (await store.exists(mKey)) {
      results.push(await repairDelivered(deliveredRefOf({ ...c, slot: { id: record.slot }, runId: record.runId, revision: record.revision }, mKey), deps));
    } else if (record.status === 'running') {
      results.push(await abandon(record, input.prefix, deps));
    }
  }
  return results;
}

/** A run that died before its commit point: recorded failed, its leftovers removed, once no one holds the slot. */
async function abandon(record: RunRecord, prefix: string, deps: RepairDeps): Promise<RepairResult> {
  const { store } = deps;
  const c = { prefix, feed: record.feed, partner: record.partner };
  const key = leaseKey(c, record.slot);
  const current = await readLease(store, key);
  if (current && isHeld(current, deps.clock.now(), deps.lease)) return { runId: record.runId, action: 'busy', pending: [] };
  const lease = await acquireLease(store, key, { attemptId: deps.newAttemptId(), runId: record.runId }, deps.clock.now(), deps.lease);
  if (!lease.acquired) return { runId: record.runId, action: 'busy', pending: [] };
  try {
    if (await store.exists(manifestKey(c, record.slot, record.runId))) return { runId: record.runId, action: 'none', pending: [] };
    await store.deletePrefix(runStagingRoot(prefix, record.runId));
    await store.deletePrefix(dropPrefix(c, record.slot, record.runId));
    const error = {
      name: 'AbandonedRun',
      message: `the attempt ${record.attemptId} stopped at ${record.step} without finishing (its process died); nothing of it was published`,
    };
    await writeRunRecord(store, runRecordKey(c, record.slot, record.runId), { ...record, status: 'failed', finishedAt: deps.clock.now().toISOString(), error });
    return { runId: record.runId, action: 'abandoned', pending: [] };
  } finally {
    await releaseLease(store, lease.held);
  }
}

/** Where the run records of one slot are. */
function slotRecordsPrefix(c: { prefix: string; feed: string; partner: string | null }, slot: string): string {
  const key = runRecordKey(c, slot, 'x');
  return key.slice(0, key.length - 'x.json'.length);
}
