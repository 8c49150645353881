import type { ObjectStore } from '../../ports/object-store';
import type { QueryEngine, StagedTable } from '../../ports/query-engine';
import { moveLatestPointer, pointerFor } from './publish';
import { expireDrops } from './retention';
import { runIdentity, Manifest } from '../manifest';
import { parseRunRecord, RunRecord } from '../run-record';
import type { Clock } from '../../ports/clock';
import type { FeedCatalog } from './step-deps';
import type { LeaseOptions } from '../lease';
import { runStagingRoot, runRecordKey, latestKey } from '../layout';

/** A delivered drop: its manifest is in the store. */
export interface Delivered {
  readonly manifest: Manifest;
  readonly manifestKey: string;
  readonly manifestSha256: string;
}

export interface RollForwardResult {
  readonly latestMoved: boolean;
  /** Slot prefixes removed by retention. */
  readonly expired: readonly string[];
  /** What could not be done now; the next run of the slot or `dropkit repair` finishes it. */
  readonly pending: readonly string[];
}

interface RollForwardDeps {
  readonly store: ObjectStore;
  readonly clock: Clock;
  readonly feeds: FeedCatalog;
  readonly engine?: QueryEngine;
  /** Retention takes each slot's lease before it deletes the slot. */
  readonly lease: LeaseOptions;
}

/**
 * Everything after the commit point, each part on its own so one failing does not stop the others:
 * the pointer, retention, the run's staging, the run record. Safe to repeat.
 */
export async function rollForward(
  run: {
    readonly plan: { readonly prefix: string };
    readonly attemptId?: string;
    readonly staged?: StagedTable;
    readonly timings?: { readonly startedAt: string };
  },
  delivered: Delivered,
  deps: RollForwardDeps,
): Promise<RollForwardResult> {
  const { store } = deps;
  const { manifest, manifestKey } = delivered;
  const c = { prefix: run.plan.prefix, feed: manifest.feed, partner: manifest.partner };
  const pending: string[] = [];
  // Each part is tried twice in the run (a store hiccup should not leave work for later), then left pending.
  const attempt = async <T>(what: string, work: () => Promise<T>, fallback: T): Promise<T> => {
    for (let tries = 1; ; tries++) {
      try {
        return await work();
      } catch (error) {
        if (tries < 2) continue;
        pending.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        return fallback;
      }
    }
  };
  const latest = latestKey(c);
  const latestMoved = await attempt(
    'move latest.json',
    () => moveLatestPointer(store, latest, pointerFor(manifest, manifestKey, latest, delivered.manifestSha256)),
    false,
  );
  const days = await attempt('read the feed', async () => deps.feeds.get(manifest.feed).spec.retention?.days, undefined);
  const retention = { keepSlot: manifest.slot.id, lease: deps.lease, attemptId: run.attemptId ?? manifest.runId };
  const expired = days ? await attempt('apply retention', () => expireDrops(store, c, days, deps.clock.now(), retention), [] as string[]) : [];
  if (run.staged && deps.engine) {
    const staged = run.staged;
    await attempt('drop the staged table', () => deps.engine!.dropStaged(staged), undefined);
  }
  await attempt('remove staging', () => store.deletePrefix(runStagingRoot(run.plan.prefix, manifest.runId)), undefined);
  await attempt(
    'write the run record',
    () => markDelivered(store, runRecordKey(c, manifest.slot.id, manifest.runId), delivered, run, pending, deps.clock.now()),
    undefined,
  );
  return { latestMoved, expired, pending };
}

/** The run record says delivered, keeping whether the notice went out. */
async function markDelivered(
  store: ObjectStore,
  key: string,
  delivered: Delivered,
  run: { attemptId?: string; timings?: { startedAt: string } },
  pending: readonly string[],
  now: Date,
): Promise<void> {
  const { manifest, manifestKey } = delivered;
  const existing = await readRunRecord(store, key);
  const record: RunRecord = {
    ...runIdentity(manifest),
    attemptId: run.attemptId ?? existing?.attemptId ?? 'unknown',
    status: 'delivered',
    step: existing?.noticeSent ? 'notify' : 'publish',
    startedAt: existing?.startedAt ?? run.timings?.startedAt ?? manifest.timings.startedAt,
    finishedAt: existing?.finishedAt ?? now.toISOString(),
    error: null,
    validation: existing?.validation ?? manifest.validation,
    manifest: manifestKey,
    delivery: {
      expectedBy: manifest.sla.expectedBy,
      deliveredAt: manifest.sla.deliveredAt,
      latenessSeconds: manifest.sla.latenessSeconds,
      status: manifest.sla.status,
    },
    rowCount: manifest.rowCount,
    noticeSent: existing?.noticeSent ?? false,
    ...(existing?.notice ? { notice: existing.notice } : {}),
    notifications: existing?.notifications ?? [],
    pending: [...pending],
  };
  await writeRunRecord(store, key, record);
}

export async function readRunRecord(store: ObjectStore, key: string): Promise<RunRecord | undefined> {
  const got = await store.get(key);
  return got ? parseRunRecord(got.body, key) : undefined;
}

export async function writeRunRecord(store: ObjectStore, key: string, record: RunRecord): Promise<void> {
  await store.put(key, JSON.stringify(record, null, 2) + '\n', { contentType: 'application/json' });
}
