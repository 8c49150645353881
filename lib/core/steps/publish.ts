import { PreconditionFailed } from '../ports/object-store';
import { TOOLKIT_VERSION } from '../../version';
import { PublishConflictError } from '../errors';
import { renewLease } from '../lease';
import type { Manifest } from '../manifest';
import { assertValidManifest, manifestEngine } from '../manifest-schema';
import { sha256Hex } from '../hash';
import { slaOutcome } from '../sla';
import { need, RunState } from './run-state';
import type { StepDeps } from './step-deps';
import { rollForward, RollForwardResult } from './roll-forward';
import type { FeedDefinition } from '../feed/feed-definition';
import { deliverySection, withDelivery } from '../destinations/delivery-section';
import { manifestApproval } from '../approval/approval';

export interface PublishResult extends RollForwardResult {
  readonly status: 'delivered';
  readonly manifestKey: string;
  readonly manifest: Manifest;
}

/**
 * Data files first, `manifest.json` last: writing it (only if absent) is the commit point. Before
 * it, a failure leaves the drop's folder as it was (the caller's failRun removes what this attempt
 * moved there). After it the run is delivered whatever happens next: the pointer, retention,
 * cleanup and run record roll forward, and what fails of them is left pending for the next run or
 * `dropkit repair`, never reported as a failed run.
 */
export async function publishStep(state: RunState, deps: Pick<StepDeps, 'store' | 'clock' | 'feeds' | 'lease' | 'engine'>): Promise<PublishResult> {
  const { plan } = state;
  const { store } = deps;
  const files = need(state, 'files', 'publish');
  const feed = deps.feeds.get(plan.feed);
  // The fence: only the attempt that still holds the slot may write into the drop's folder.
  await renewLease(store, state.lease, deps.clock.now(), deps.lease.ttlSeconds);
  if (await store.exists(plan.keys.manifest)) {
    throw new PublishConflictError(`${plan.keys.manifest} already exists: run ${plan.runId} was delivered by another attempt`);
  }
  // Leftovers of a dead attempt of this very run (it never wrote its manifest): not delivered, safe to replace.
  await store.deletePrefix(plan.keys.drop);
  const versions = new Map<string, string>();
  for (const file of files) {
    const moved = await store.move(file.stagingKey, plan.keys.drop + file.path);
    if (moved?.versionId) versions.set(file.path, moved.versionId);
  }

  const publishedAt = deps.clock.now();
  const manifest = buildManifest(state, feed, publishedAt, versions);
  assertValidManifest(manifest);
  const body = JSON.stringify(manifest, null, 2) + '\n';
  try {
    await store.put(plan.keys.manifest, body, { contentType: 'application/json', precondition: { ifNoneMatch: '*' } });
  } catch (error) {
    if (error instanceof PreconditionFailed)
      throw new PublishConflictError(`${plan.keys.manifest} was written by another attempt while this one published`, { cause: error });
    throw error;
  }
  // Committed. Nothing below may turn this into a failed run.
  const rolled = await rollForward(state, { manifest, manifestKey: plan.keys.manifest, manifestSha256: sha256Hex(body) }, deps);
  return { status: 'delivered', manifestKey: plan.keys.manifest, manifest, ...rolled };
}

function buildManifest(state: RunState, feed: FeedDefinition, publishedAt: Date, versions: ReadonlyMap<string, string>): Manifest {
  const { plan } = state;
  const staged = need(state, 'staged', 'publish');
  const validation = need(state, 'validation', 'publish');
  const query = need(state, 'query', 'publish');
  const files = need(state, 'files', 'publish');
  const { stagedAt, validatedAt, renderedAt } = state.timings;
  if (!stagedAt || !validatedAt || !renderedAt) throw new Error('publish needs the stage, validate and render timings in the run state');
  const sla = slaOutcome(new Date(plan.sla.expectedBy), publishedAt);
  const csv = feed.spec.formats.csv;
  return {
    manifestVersion: 1,
    feed: plan.feed,
    partner: plan.partner,
    runId: plan.runId,
    revision: plan.revision,
    supersedes: plan.supersedes,
    status: 'DELIVERED',
    slot: plan.slot,
    sla: {
      expectedBy: plan.sla.expectedBy,
      warnAt: plan.sla.warnAt,
      deliveredAt: publishedAt.toISOString(),
      latenessSeconds: sla.latenessSeconds,
      status: sla.status,
    },
    timings: { startedAt: state.timings.startedAt, stagedAt, validatedAt, renderedAt, publishedAt: publishedAt.toISOString() },
    query: {
      engine: manifestEngine(query.engine),
      sqlSha256: query.sqlSha256,
      parameters: Object.fromEntries(plan.parameters.map((p) => [p.name, p.value])),
      executionId: staged.execution.executionId,
      bytesScanned: staged.execution.bytesScanned,
      engineMillis: staged.execution.engineMillis,
    },
    schema: {
      columns: staged.columns.map((c) => ({
        name: c.name,
        type: c.type,
        nullable: c.nullable,
        // Where the Parquet file holds the column in another type, the manifest says which.
        ...(c.parquetType !== undefined && files.some((f) => f.format === 'parquet') ? { parquetType: c.parquetType } : {}),
      })),
    },
    rowCount: staged.rowCount,
    files: files.map(({ path, format, compression, rows, bytes, sha256 }) => ({
      path,
      format,
      compression,
      rows,
      bytes,
      sha256,
      ...(versions.has(path) ? { versionId: versions.get(path) } : {}),
    })),
    csv: csv
      ? {
          delimiter: csv.delimiter,
          quote: csv.quote,
          header: csv.header,
          nullText: csv.nullText,
          lineEnding: csv.lineEnding,
          encoding: csv.encoding,
          formulas: csv.formulas ?? 'keep',
        }
      : null,
    // Failing-row samples stay in the run record: the manifest goes to partners.
    validation: { status: validation.status, checks: validation.checks.map(({ sample: _sample, ...check }) => check) },
    ...(feed.semantics ? { semantics: { columns: feed.semantics.columns } } : {}),
    ...(validation.profile ? { profile: validation.profile } : {}),
    ...withDelivery(deliverySection(feed.spec, plan.partner)),
    ...(state.approval && feed.spec.approval ? { approval: manifestApproval(state.approval) } : {}),
    toolkitVersion: TOOLKIT_VERSION,
  };
}

// Re-exported: their home is latest-pointer.ts, which keeps the manifest validator out of what only moves pointers (the plan Lambda's repair).
export { moveLatestPointer, pointerFor } from './latest-pointer';
