import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../ports/clock';
import type { LinkSigner } from '../ports/link-signer';
import type { Notifier, NotifyOutcome } from '../ports/notifier';
import type { ObjectStore } from '../ports/object-store';
import type { QueryEngine, StagedTable } from '../ports/query-engine';
import { parseDurationSeconds } from '../core/duration';
import type { FeedDefinition } from '../core/feed/feed-definition';
import type { CheckConfig } from '../core/checks/registry';
import type { Manifest } from '../core/manifest';
import type { RunRecord, StepName } from '../core/run-record';
import { failureEvent, notifyDelivered, sendAll } from '../core/steps/notify';
import { planRun, previousDrop, RunPlan } from '../core/steps/plan';
import { moveLatestPointer, pointerFor, publishDrop } from '../core/steps/publish';
import { renderDrop, RenderProgress } from '../core/steps/render';
import { sha256Hex } from '../core/run-id';
import { latestKey } from '../core/layout';
import { stageRun } from '../core/steps/stage';
import { assertPublishable, validateStaged, ValidationReport } from '../core/steps/validate';

export interface RunRequest {
  readonly feed: FeedDefinition;
  readonly prefix: string;
  readonly partner: string | null;
  readonly slot?: Date;
  readonly rerun?: boolean;
}

export interface RunDeps {
  readonly store: ObjectStore;
  readonly signer: LinkSigner;
  readonly clock: Clock;
  /** A fresh engine per run; closed when the run ends. */
  readonly openEngine: () => Promise<QueryEngine>;
  readonly consumers: readonly Notifier[];
  readonly operators: readonly Notifier[];
  readonly workDir: string;
  readonly onStep?: (step: StepName, plan: RunPlan) => void;
  readonly onProgress?: (p: RenderProgress) => void;
}

export interface RunOutcome {
  readonly status: 'delivered' | 'already-delivered' | 'failed' | 'validation-failed';
  readonly feed: string;
  readonly partner: string | null;
  readonly slot: string;
  readonly runId: string;
  readonly revision: number;
  readonly manifestKey: string | null;
  readonly manifest?: Manifest;
  readonly validation?: ValidationReport;
  readonly error?: { readonly step: StepName; readonly name: string; readonly message: string };
  readonly notifications: readonly NotifyOutcome[];
}

/**
 * Runs one slot through plan → stage → validate → render → publish → notify, in process. The same
 * step functions run on AWS, one Lambda each. A failure at any step publishes nothing, is
 * recorded under `_runs/`, and is told to the operators.
 */
export async function runSlot(request: RunRequest, deps: RunDeps): Promise<RunOutcome> {
  const { feed, prefix } = request;
  const planned = await planRun(
    { feed, prefix, engine: 'duckdb', partner: request.partner, slot: request.slot, rerun: request.rerun },
    { store: deps.store, clock: deps.clock },
  );
  if (planned.status === 'already-delivered') {
    // Repairs a pointer left behind by a run that crashed between its manifest and latest.json.
    const got = await deps.store.get(planned.manifestKey);
    if (got) {
      const manifest = JSON.parse(got.body.toString('utf8')) as Manifest;
      const latest = latestKey(planned.coordinates);
      await moveLatestPointer(deps.store, latest, pointerFor(manifest, planned.manifestKey, latest, sha256Hex(got.body)));
    }
    return { status: 'already-delivered', feed: feed.spec.name, partner: request.partner, slot: planned.slot, runId: planned.runId, revision: planned.revision, manifestKey: planned.manifestKey, notifications: [] };
  }

  const plan = planned.plan;
  let step: StepName = 'plan';
  let record: RunRecord = {
    feed: plan.feed, partner: plan.partner, runId: plan.runId, revision: plan.revision, slot: plan.slot.id, scheduledFor: plan.slot.scheduledFor,
    status: 'running', step, startedAt: plan.startedAt, finishedAt: null, error: null, validation: null, manifest: null, rowCount: null, notifications: [],
  };
  const saveRecord = (r: RunRecord) => deps.store.put(plan.keys.runRecord, JSON.stringify(r, null, 2) + '\n', { contentType: 'application/json' });
  await saveRecord(record);

  const now = () => deps.clock.now().toISOString();
  let engine: QueryEngine | undefined;
  let staged: StagedTable | undefined;
  let validation: ValidationReport | undefined;
  const enter = (s: StepName) => {
    step = s;
    deps.onStep?.(s, plan);
  };
  try {
    enter('stage');
    engine = await deps.openEngine();
    staged = await stageRun(plan, feed, engine);
    const stagedAt = now();

    enter('validate');
    const previous = await previousDrop(deps.store, { prefix, feed: plan.feed, partner: plan.partner }, plan.slot.id);
    validation = await validateStaged(feed.spec.checks as CheckConfig[], staged, engine, { slot: plan.slot, previous });
    const validatedAt = now();
    assertPublishable(feed.spec.name, validation);

    enter('render');
    const rendered = await renderDrop(plan, staged, feed.spec.formats, { engine, store: deps.store, workDir: deps.workDir, onProgress: deps.onProgress });
    const renderedAt = now();

    enter('publish');
    const published = await publishDrop(
      { plan, staged, validation, rendered, timings: { startedAt: plan.startedAt, stagedAt, validatedAt, renderedAt }, csv: feed.spec.formats.csv, prefix, retentionDays: feed.spec.retention?.days },
      { store: deps.store, clock: deps.clock },
    );

    enter('notify');
    const linkSeconds = parseDurationSeconds(feed.spec.links.expiresIn)!;
    const { outcomes } = await notifyDelivered({ manifest: published.manifest, manifestKey: published.manifestKey, linkSeconds }, { signer: deps.signer, notifiers: deps.consumers, clock: deps.clock });
    record = { ...record, status: 'delivered', step, finishedAt: now(), validation, manifest: published.manifestKey, rowCount: staged.rowCount, notifications: outcomes };
    await saveRecord(record);
    return { status: 'delivered', feed: plan.feed, partner: plan.partner, slot: plan.slot.id, runId: plan.runId, revision: plan.revision, manifestKey: published.manifestKey, manifest: published.manifest, validation, notifications: outcomes };
  } catch (e) {
    const error = { name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) };
    const status = error.name === 'ValidationFailedError' ? 'validation_failed' : 'failed';
    // Nothing of this run may stay visible: staging goes, the drop prefix holds no manifest.
    await deps.store.deletePrefix(plan.keys.staging).catch(() => undefined);
    const outcomes = await sendAll(failureEvent(plan, step, error, deps.clock.now()), deps.operators);
    record = { ...record, status, step, finishedAt: now(), error, validation: validation ?? null, rowCount: staged?.rowCount ?? null, notifications: outcomes };
    await saveRecord(record);
    return {
      status: status === 'validation_failed' ? 'validation-failed' : 'failed',
      feed: plan.feed, partner: plan.partner, slot: plan.slot.id, runId: plan.runId, revision: plan.revision, manifestKey: null,
      validation, error: { step, ...error }, notifications: outcomes,
    };
  } finally {
    if (engine) {
      if (staged) await engine.dropStaged(staged).catch(() => undefined);
      await engine.close();
    }
    await rm(join(deps.workDir, plan.runId), { recursive: true, force: true });
  }
}
