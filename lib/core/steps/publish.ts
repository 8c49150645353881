import type { Clock } from '../../ports/clock';
import { ObjectStore, PreconditionFailed } from '../../ports/object-store';
import type { StagedTable } from '../../ports/query-engine';
import { TOOLKIT_VERSION } from '../../version';
import { PublishConflictError } from '../errors';
import type { CsvDialect } from '../feed/feed-schema';
import { feedRoot, DropCoordinates } from '../layout';
import type { LatestPointer, Manifest } from '../manifest';
import { assertValidManifest } from '../manifest-schema';
import { sha256Hex } from '../run-id';
import { slaOutcome } from '../sla';
import type { RunPlan } from './plan';
import type { RenderedFile } from './render';
import type { ValidationReport } from './validate';

export interface PublishInput {
  readonly plan: RunPlan;
  readonly staged: StagedTable;
  readonly validation: ValidationReport;
  readonly rendered: readonly RenderedFile[];
  readonly timings: { readonly startedAt: string; readonly stagedAt: string; readonly validatedAt: string; readonly renderedAt: string };
  readonly csv: CsvDialect | undefined;
  readonly prefix: string;
  readonly retentionDays?: number;
}

export interface PublishResult {
  readonly manifest: Manifest;
  readonly manifestKey: string;
  readonly latestMoved: boolean;
  /** Slot prefixes removed by retention. */
  readonly expired: readonly string[];
}

/**
 * Data files first, `manifest.json` last (the commit point, written only if absent), then the
 * `latest.json` pointer with a conditional write. A consumer who trusts manifests never sees a
 * partial drop, and a crash at any point leaves the previous drop and pointer as they were.
 */
export async function publishDrop(input: PublishInput, deps: { store: ObjectStore; clock: Clock }): Promise<PublishResult> {
  const { plan, store } = { plan: input.plan, store: deps.store };
  if (await store.exists(plan.keys.manifest)) {
    throw new PublishConflictError(`${plan.keys.manifest} already exists: run ${plan.runId} was delivered by another process`);
  }
  // Leftovers of an earlier attempt of this very run (it crashed before its manifest): not delivered, safe to replace.
  await store.deletePrefix(plan.keys.drop);
  for (const file of input.rendered) await store.move(file.stagingKey, plan.keys.drop + file.path);

  const publishedAt = deps.clock.now();
  const manifest = buildManifest(input, publishedAt);
  assertValidManifest(manifest);
  const body = JSON.stringify(manifest, null, 2) + '\n';
  try {
    await store.put(plan.keys.manifest, body, { contentType: 'application/json', precondition: { ifNoneMatch: '*' } });
  } catch (error) {
    if (error instanceof PreconditionFailed) throw new PublishConflictError(`${plan.keys.manifest} was written by another process while this run published`, { cause: error });
    throw error;
  }
  const latestMoved = await moveLatestPointer(store, plan.keys.latest, pointerFor(manifest, plan.keys.manifest, plan.keys.latest, sha256Hex(body)));
  await store.deletePrefix(plan.keys.staging);
  const coordinates = { prefix: input.prefix, feed: plan.feed, partner: plan.partner };
  const expired = input.retentionDays ? await expireDrops(store, coordinates, input.retentionDays, publishedAt) : [];
  return { manifest, manifestKey: plan.keys.manifest, latestMoved, expired };
}

function buildManifest(input: PublishInput, publishedAt: Date): Manifest {
  const { plan, staged, validation, rendered } = input;
  const sla = slaOutcome(new Date(plan.sla.expectedBy), publishedAt);
  return {
    manifestVersion: 1,
    feed: plan.feed,
    partner: plan.partner,
    runId: plan.runId,
    revision: plan.revision,
    supersedes: plan.supersedes,
    status: 'DELIVERED',
    slot: plan.slot,
    sla: { expectedBy: plan.sla.expectedBy, warnAt: plan.sla.warnAt, deliveredAt: publishedAt.toISOString(), latenessSeconds: sla.latenessSeconds, status: sla.status },
    timings: { ...input.timings, publishedAt: publishedAt.toISOString() },
    query: {
      engine: plan.engine,
      sqlSha256: plan.sqlSha256,
      parameters: Object.fromEntries(plan.parameters.map((p) => [p.name, p.value])),
      executionId: staged.executionId,
      bytesScanned: staged.bytesScanned,
    },
    schema: { columns: staged.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })) },
    rowCount: staged.rowCount,
    files: rendered.map(({ path, format, compression, rows, bytes, sha256 }) => ({ path, format, compression, rows, bytes, sha256 })),
    csv: input.csv
      ? { delimiter: input.csv.delimiter, quote: input.csv.quote, header: input.csv.header, nullText: input.csv.nullText, lineEnding: input.csv.lineEnding, encoding: input.csv.encoding }
      : null,
    // Failing-row samples stay in the run record: the manifest goes to partners.
    validation: { status: validation.status, checks: validation.checks.map(({ sample: _sample, ...check }) => check) },
    toolkitVersion: TOOLKIT_VERSION,
  };
}

export function pointerFor(manifest: Manifest, manifestKey: string, latestKey: string, manifestSha256: string): LatestPointer {
  const base = latestKey.slice(0, latestKey.length - 'latest.json'.length);
  return {
    manifestVersion: 1,
    feed: manifest.feed,
    partner: manifest.partner,
    runId: manifest.runId,
    revision: manifest.revision,
    slot: manifest.slot.id,
    scheduledFor: manifest.slot.scheduledFor,
    manifest: manifestKey.startsWith(base) ? manifestKey.slice(base.length) : manifestKey,
    manifestSha256,
    publishedAt: manifest.timings.publishedAt,
  };
}

/**
 * Moves `latest.json` to the new drop unless it already points at a newer one (a backfill of an
 * old slot must not turn the pointer back). Conditional on the version read, retried on a race.
 */
export async function moveLatestPointer(store: ObjectStore, key: string, pointer: LatestPointer): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await store.get(key);
    if (current) {
      const existing = JSON.parse(current.body.toString('utf8')) as LatestPointer;
      const newer = existing.scheduledFor > pointer.scheduledFor || (existing.scheduledFor === pointer.scheduledFor && existing.revision >= pointer.revision);
      if (newer) return false;
    }
    try {
      const precondition = current ? { ifMatch: current.etag } : ({ ifNoneMatch: '*' } as const);
      await store.put(key, JSON.stringify(pointer, null, 2) + '\n', { contentType: 'application/json', precondition });
      return true;
    } catch (error) {
      if (!(error instanceof PreconditionFailed)) throw error;
    }
  }
  throw new PublishConflictError(`${key} kept changing under this run; the drop is delivered but the pointer was not moved: run again to repair it`);
}

/** Deletes whole slots older than the retention, never the one `latest.json` points at. */
export async function expireDrops(store: ObjectStore, c: DropCoordinates, days: number, now: Date): Promise<string[]> {
  const root = feedRoot(c);
  const latest = await store.get(root + 'latest.json');
  const keep = latest ? (JSON.parse(latest.body.toString('utf8')) as LatestPointer).slot : undefined;
  const cutoff = now.getTime() - days * 86400_000;
  const slots = new Set<string>();
  for await (const o of store.list(root + 'slot=')) {
    const m = /^slot=(\d{8}T\d{6}Z)\//.exec(o.key.slice(root.length));
    if (m) slots.add(m[1]);
  }
  const expired: string[] = [];
  for (const slot of slots) {
    if (slot === keep || slotTime(slot) >= cutoff) continue;
    await store.deletePrefix(`${root}slot=${slot}/`);
    expired.push(`${root}slot=${slot}/`);
  }
  return expired;
}

function slotTime(id: string): number {
  return Date.parse(`${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`);
}
