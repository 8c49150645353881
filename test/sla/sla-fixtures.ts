import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../lib/adapters/local/local-store';
import type { DropCoordinates } from '../../lib/core/layout';
import { manifestKey, runRecordKey } from '../../lib/core/layout';
import type { Manifest } from '../../lib/core/manifest';
import type { RunRecord } from '../../lib/core/run-record';
import { deriveRunId } from '../../lib/core/run-id';
import type { WatchedFeed } from '../../lib/core/sla-watch/expected-slots';
import type { DropEvent, Notifier, NotifyOutcome } from '../../lib/core/ports/notifier';

/** A daily 06:00 UTC feed due within 2 h, warned at 1 h, MISSED 30 min after the deadline. */
export const DAILY: WatchedFeed = {
  name: 'daily',
  schedule: { cron: '0 6 * * *', timezone: 'UTC' },
  sla: { deliverWithin: 'PT2H', warnAfter: 'PT1H', grace: 'PT30M' },
  delivery: 'shared',
  partners: [{ id: 'acme' }],
};

export function tempStore(): { store: LocalStore; dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'dropkit-sla-'));
  return { store: new LocalStore(dir), dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function coords(feed = 'daily', partner: string | null = null): DropCoordinates {
  return { prefix: '', feed, partner };
}

/** The fields of a manifest the watch, history and report read; the rest is filled plausibly. */
export function manifestFor(opts: {
  feed?: string;
  partner?: string | null;
  slot: string;
  scheduledFor: string;
  expectedBy: string;
  deliveredAt: string;
  revision?: number;
  rowCount?: number;
  columns?: { name: string; type: string }[];
  supersedes?: string | null;
}): Manifest {
  const revision = opts.revision ?? 1;
  const feed = opts.feed ?? 'daily';
  const late = Math.max(0, Math.ceil((Date.parse(opts.deliveredAt) - Date.parse(opts.expectedBy)) / 1000));
  return {
    manifestVersion: 1,
    feed,
    partner: opts.partner ?? null,
    runId: deriveRunId(feed, opts.partner ?? null, opts.slot, revision),
    revision,
    supersedes: opts.supersedes ?? (revision > 1 ? deriveRunId(feed, opts.partner ?? null, opts.slot, revision - 1) : null),
    status: 'DELIVERED',
    slot: {
      id: opts.slot,
      scheduledFor: opts.scheduledFor,
      dataInterval: { start: opts.scheduledFor, end: opts.scheduledFor },
      timezone: 'UTC',
      cron: '0 6 * * *',
    },
    sla: { expectedBy: opts.expectedBy, warnAt: null, deliveredAt: opts.deliveredAt, latenessSeconds: late, status: late > 0 ? 'LATE' : 'MET' },
    timings: {
      startedAt: opts.deliveredAt,
      stagedAt: opts.deliveredAt,
      validatedAt: opts.deliveredAt,
      renderedAt: opts.deliveredAt,
      publishedAt: opts.deliveredAt,
    },
    query: { engine: 'duckdb', sqlSha256: '0'.repeat(64), parameters: {}, executionId: null, bytesScanned: null },
    schema: { columns: (opts.columns ?? [{ name: 'id', type: 'INTEGER' }]).map((c) => ({ ...c, nullable: true })) },
    rowCount: opts.rowCount ?? 3,
    files: [{ path: 'part-00000.csv', format: 'csv', compression: 'none', rows: opts.rowCount ?? 3, bytes: 10, sha256: 'a'.repeat(64) }],
    csv: null,
    validation: { status: 'pass', checks: [] },
    toolkitVersion: 'test',
  };
}

export async function putManifest(store: LocalStore, m: Manifest, c = coords(m.feed, m.partner)): Promise<string> {
  const key = manifestKey(c, m.slot.id, m.runId);
  await store.put(key, JSON.stringify(m));
  return key;
}

export function runRecordFor(opts: {
  feed?: string;
  partner?: string | null;
  slot: string;
  status: RunRecord['status'];
  startedAt: string;
  step?: RunRecord['step'];
  revision?: number;
  message?: string;
  manifest?: string | null;
  rowCount?: number | null;
}): RunRecord {
  const feed = opts.feed ?? 'daily';
  const revision = opts.revision ?? 1;
  const failed = opts.status === 'failed' || opts.status === 'validation-failed';
  return {
    feed,
    partner: opts.partner ?? null,
    runId: deriveRunId(feed, opts.partner ?? null, opts.slot, revision),
    revision,
    slot: opts.slot,
    scheduledFor: opts.slot,
    status: opts.status,
    step: opts.step ?? (opts.status === 'validation-failed' ? 'validate' : opts.status === 'delivered' ? 'notify' : 'stage'),
    startedAt: opts.startedAt,
    finishedAt: opts.status === 'running' ? null : opts.startedAt,
    error: failed ? { name: opts.status === 'validation-failed' ? 'ValidationFailedError' : 'QueryFailedError', message: opts.message ?? 'boom' } : null,
    validation: opts.status === 'validation-failed' ? { status: 'fail', checks: [] } : null,
    manifest: opts.manifest ?? null,
    rowCount: opts.rowCount ?? null,
    attemptId: 'a1',
    noticeSent: opts.status === 'delivered',
    notifications: [],
    pending: [],
  };
}

export async function putRun(store: LocalStore, r: RunRecord): Promise<void> {
  await store.put(runRecordKey(coords(r.feed, r.partner), r.slot, r.runId), JSON.stringify(r));
}

/** A notifier that keeps what it was sent, and can be told to fail. */
export class RecordingNotifier implements Notifier {
  readonly events: DropEvent[] = [];
  fail = false;
  constructor(readonly target: string) {}
  async notify(event: DropEvent): Promise<NotifyOutcome> {
    if (this.fail) return { target: this.target, status: 'failed', attempts: 1, detail: 'down' };
    this.events.push(event);
    return { target: this.target, status: 'sent', attempts: 1 };
  }
}
