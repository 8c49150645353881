import * as z from 'zod';
import type { Clock } from '../ports/clock';
import type { ChangeEngine, ChangeSet } from './change-engine';
import type { DeliveryFile, DeliveryInput, DeliveryProgress, Destination, DestinationRecord, RowReader, SyncMode } from '../ports/destination';
import type { ObjectStore } from '../ports/object-store';
import type { Manifest } from '../manifest';
import { manifestAtDestination } from './delivery-section';
import { baseKey, deliveryPrefix, deliveryRecordKey, type DeliveryRef } from './delivery-keys';
import { parseStoreJson, readStoreJson } from '../store-json';
import { manifestSchema } from '../manifest-schema';
import { destinationRecordSchema } from '../store-records';
import { deadLetterPrefix, dropPrefixOfManifest } from '../layout';
import { SlotBusyError } from '../errors';

/** One destination of a feed (or partner) as configured: the adapter and how it syncs. */
export interface DestinationPlan {
  readonly destination: Destination;
  readonly mode: SyncMode;
  readonly primaryKey?: readonly string[];
  /** Row destinations (APIs) take rows read from Parquet; file destinations take files. */
  readonly takes: 'files' | 'rows';
}

export interface DeliverDeps {
  readonly store: ObjectStore;
  readonly clock: Clock;
  readonly destinations: readonly DestinationPlan[];
  /** Needed by row destinations. */
  readonly rows?: RowReader;
  /** Needed by diff syncs. */
  readonly changes?: ChangeEngine;
  /** Hears the records so far after each destination, so the run record shows each outcome as it comes. */
  readonly onRecord?: (records: readonly DestinationRecord[]) => Promise<void>;
  /**
   * Called before each destination and after each unit sent: renews the slot's lease, and throws
   * SlotBusyError once another attempt owns the slot (lib/core/lease.ts `leaseFence`).
   */
  readonly fence?: () => Promise<void>;
}

/**
 * The drop a destination last received whole: the base of its next diff (absent before the first
 * complete sync). `partial` names the latest sync since then whose rows the API partly rejected.
 */
const lastDeliveredSchema = z.object({ runId: z.string().optional(), manifestKey: z.string().optional(), partial: z.string().optional() });

const writeJson = (store: ObjectStore, key: string, value: unknown) =>
  store.put(key, JSON.stringify(value, null, 2) + '\n', { contentType: 'application/json' });

/**
 * Runs every destination of a delivered drop, one after the other, and returns a record for each.
 * Called after the commit point: a destination that fails is recorded as failed and the drop stays
 * delivered. Each destination keeps its own record under `_deliveries/`, updated as every file or
 * batch is sent, so a retry (the next notify, `dropkit repair`) skips what already arrived, and a
 * destination already delivered is not contacted again.
 *
 * @example
 * const records = await deliverDestinations(ref, { store, clock: systemClock, destinations: [{ destination, mode: 'full', takes: 'files' }] });
 */
export async function deliverDestinations(ref: DeliveryRef, deps: DeliverDeps): Promise<DestinationRecord[]> {
  const got = await deps.store.get(ref.manifestKey);
  if (!got) throw new Error(`${ref.manifestKey} is not in the store: run ${ref.runId} was not delivered, so there is nothing to push`);
  const manifest = parseStoreJson(ref.manifestKey, got.body, manifestSchema);
  const records: DestinationRecord[] = [];
  for (const [i, plan] of deps.destinations.entries()) {
    let outcome: { record: DestinationRecord; lost?: SlotBusyError };
    try {
      await deps.fence?.();
      outcome = await deliverOne(ref, manifest, plan, deps);
    } catch (error) {
      if (!(error instanceof SlotBusyError)) throw error;
      outcome = { record: notReached(plan, error, deps.clock), lost: error };
    }
    records.push(outcome.record);
    if (outcome.lost) {
      // The slot is another attempt's now: stop here. Every destination left is recorded failed (pending
      // in the run record), so the next run of the slot or `dropkit repair` resumes them.
      const lost = outcome.lost;
      records.push(...deps.destinations.slice(i + 1).map((p) => notReached(p, lost, deps.clock)));
    }
    await deps.onRecord?.(records);
    if (outcome.lost) break;
  }
  return records;
}

/** The record of a destination this attempt stopped before (or in the middle of): failed, with why. */
function notReached(plan: DestinationPlan, error: SlotBusyError, clock: Clock): DestinationRecord {
  const at = clock.now().toISOString();
  return {
    destination: plan.destination.name,
    target: plan.destination.target,
    mode: plan.mode,
    status: 'failed',
    units: [],
    files: 0,
    bytes: 0,
    rowsSent: 0,
    rowsRejected: 0,
    errors: [{ message: `${error.name}: ${error.message}` }],
    startedAt: at,
    finishedAt: at,
  };
}

async function deliverOne(
  ref: DeliveryRef,
  manifest: Manifest,
  plan: DestinationPlan,
  deps: DeliverDeps,
): Promise<{ record: DestinationRecord; lost?: SlotBusyError }> {
  const { store, clock } = deps;
  const { destination, mode } = plan;
  const recordKey = deliveryRecordKey(ref, destination.name);
  const earlier = await readStoreJson(store, recordKey, destinationRecordSchema);
  if (earlier && earlier.status !== 'failed') return { record: earlier };
  const startedAt = earlier?.startedAt ?? clock.now().toISOString();
  const runPrefix = deliveryPrefix(ref, destination.name);
  const lastKey = baseKey(ref, destination.name);
  let record: DestinationRecord = earlier
    ? { ...earlier, errors: [] }
    : {
        destination: destination.name,
        target: destination.target,
        mode,
        status: 'failed',
        units: [],
        files: 0,
        bytes: 0,
        rowsSent: 0,
        rowsRejected: 0,
        errors: [],
        startedAt,
        finishedAt: startedAt,
      };
  try {
    // The base is fixed by the first attempt, so a retry diffs against the same drop and its batches line up.
    const last = earlier || mode === 'full' ? undefined : await readStoreJson(store, lastKey, lastDeliveredSchema);
    const base = earlier ? (earlier.base ?? null) : (last?.manifestKey ?? null);
    const carries = earlier ? earlier.carriesRejectedOf : last?.partial;
    record = { ...record, base, ...(carries ? { carriesRejectedOf: carries } : {}) };
    const input = await deliveryInput(ref, manifest, plan, deps, runPrefix, base, carries, record.changeSet, async (changeSet) => {
      // A diff can take long (an engine query): the slot must still be ours before its result is kept.
      await deps.fence?.();
      record = { ...record, changeSet };
      await writeJson(store, recordKey, record);
    });
    const done = new Set(record.units);
    const progress: DeliveryProgress = {
      done,
      markDone: async (unit, counts) => {
        done.add(unit);
        record = {
          ...record,
          units: [...record.units, unit],
          files: record.files + (counts.bytes !== undefined ? 1 : 0),
          bytes: record.bytes + (counts.bytes ?? 0),
          rowsSent: record.rowsSent + (counts.rowsSent ?? 0),
          rowsRejected: record.rowsRejected + (counts.rowsRejected ?? 0),
          finishedAt: clock.now().toISOString(),
        };
        await writeJson(store, recordKey, record);
        // The unit is recorded as sent before the fence: an attempt that lost the slot stops before the next one.
        await deps.fence?.();
      },
    };
    await destination.deliver(input, progress);
    record = {
      ...record,
      status: record.rowsRejected > 0 ? 'partial' : 'delivered',
      ...(record.rowsRejected > 0 ? { deadLetter: deadLetterPrefix(runPrefix) } : {}),
      finishedAt: clock.now().toISOString(),
    };
    // The base moves only when every row arrived: after a partial sync the next diff is taken
    // against the last complete one, so it carries the rejected rows again (and re-sends, as
    // idempotent upserts by key, the ones that went through). Moving it here would lose them for good.
    if (mode !== 'full')
      await writeJson(
        store,
        lastKey,
        (record.rowsRejected === 0
          ? { runId: ref.runId, manifestKey: ref.manifestKey }
          : { ...(await readStoreJson(store, lastKey, lastDeliveredSchema)), partial: ref.runId }) satisfies z.input<typeof lastDeliveredSchema>,
      );
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    record = { ...record, status: 'failed', errors: [{ message: `${e.name}: ${e.message}` }], finishedAt: clock.now().toISOString() };
    // Lost the slot: its own record (units sent so far) stays as the last unit left it; the new owner may be writing it.
    if (e instanceof SlotBusyError) return { record, lost: e };
  } finally {
    await destination.close?.().catch(() => undefined);
  }
  await writeJson(store, recordKey, record);
  return { record };
}

async function deliveryInput(
  ref: DeliveryRef,
  manifest: Manifest,
  plan: DestinationPlan,
  deps: DeliverDeps,
  runPrefix: string,
  base: string | null,
  carries: string | undefined,
  computed: ChangeSet | undefined,
  keep: (set: ChangeSet) => Promise<void>,
): Promise<DeliveryInput> {
  const dropPrefix = dropPrefixOfManifest(ref.manifestKey);
  const parquet = manifest.files.filter((f) => f.format === 'parquet');
  const common = {
    feed: ref.feed,
    partner: ref.partner,
    runId: ref.runId,
    manifest,
    manifestKey: ref.manifestKey,
    store: deps.store,
    rows: deps.rows,
    runPrefix,
    primaryKey: plan.primaryKey,
  };
  const atDestination = (files: DeliveryFile[], baseRun: string | null, changes?: { path: string; body: string }) =>
    plan.takes === 'files'
      ? manifestAtDestination(manifest, { destination: plan.destination.name, mode: plan.mode, base: baseRun, files, changes })
      : undefined;
  if (plan.takes === 'rows' && !deps.rows)
    throw new Error(`destination ${plan.destination.name} sends rows, and no row reader was given (the engine reads them)`);
  if (plan.mode === 'full') {
    const sent = plan.takes === 'rows' ? parquet : manifest.files;
    if (plan.takes === 'rows' && sent.length === 0)
      throw new Error(`destination ${plan.destination.name} reads rows from Parquet, and drop ${ref.runId} has none: add formats.parquet to the feed`);
    const files: DeliveryFile[] = sent.map((f) => ({ path: f.path, key: dropPrefix + f.path, bytes: f.bytes, rows: f.rows, op: 'upsert' }));
    return { ...common, files, manifestBody: atDestination(files, null) };
  }
  if (!deps.changes) throw new Error(`destination ${plan.destination.name} syncs changes (${plan.mode}), and no change engine was given`);
  if (!plan.primaryKey) throw new Error(`destination ${plan.destination.name} syncs changes (${plan.mode}) and declares no primaryKey`);
  const baseManifest = base ? await readStoreJson(deps.store, base, manifestSchema) : undefined;
  if (base && !baseManifest)
    throw new Error(`the drop destination ${plan.destination.name} last received (${base}) is gone from the store; set sync: full once, or restore it`);
  const keysOf = (m: Manifest, key: string) => m.files.filter((f) => f.format === 'parquet').map((f) => dropPrefixOfManifest(key) + f.path);
  const set: ChangeSet =
    computed ??
    (await deps.changes.diff({
      base: baseManifest && base ? keysOf(baseManifest, base) : null,
      current: keysOf(manifest, ref.manifestKey),
      primaryKey: plan.primaryKey,
      columns: manifest.schema.columns.map((c) => c.name),
      outPrefix: `${runPrefix}changes/`,
    }));
  if (!computed) await keep(set);
  const files: DeliveryFile[] = [];
  const add = (op: 'insert' | 'update' | 'delete', f: { key: string; rows: number; bytes: number }, as: DeliveryFile['op'] = op) =>
    files.push({ path: `changes/${op}s.parquet`, key: f.key, rows: f.rows, bytes: f.bytes, op: as });
  // After a partial sync the receiver already holds some of these "new" keys (sent by it), maybe
  // with older values: upsert them, or an insert-only API would keep the old values.
  add('insert', set.inserts, carries && plan.mode !== 'insert-only' ? 'upsert' : 'insert');
  if (plan.mode !== 'insert-only') add('update', set.updates);
  if (plan.mode === 'mirror') add('delete', set.deletes);
  const changes = {
    path: 'changes.json',
    body:
      JSON.stringify(
        {
          runId: ref.runId,
          mode: plan.mode,
          base: base ? (baseManifest?.runId ?? null) : null,
          primaryKey: plan.primaryKey,
          files: files.map((f) => ({ path: f.path, op: f.op, rows: f.rows, bytes: f.bytes })),
        },
        null,
        2,
      ) + '\n',
  };
  return { ...common, files, changes, manifestBody: atDestination(files, base ? (baseManifest?.runId ?? null) : null, changes) };
}
