import type { NotifyOutcome } from '../ports/notifier';
import type { QueryEngine } from '../ports/query-engine';
import { ValidationFailedError } from '../core/errors';
import { renewLease, releaseLease, HeldLease } from '../core/lease';
import type { Manifest } from '../core/manifest';
import type { StepName } from '../core/run-record';
import { planStep } from '../core/steps/begin';
import { failRunStep } from '../core/steps/fail-run';
import { notifyStep } from '../core/steps/notify';
import type { DeliveredRef, RunPlan } from '../core/steps/plan';
import { publishStep } from '../core/steps/publish';
import type { RenderProgress } from '../core/steps/render';
import { renderStep } from '../core/steps/render';
import { repairAll, repairDelivered } from '../core/steps/repair';
import type { RunState } from '../core/steps/run-state';
import { stageStep } from '../core/steps/stage';
import type { StepDeps } from '../core/steps/step-deps';
import { assertPublishable, validateStep, ValidationReport } from '../core/steps/validate';

export interface RunRequest {
  readonly feed: string;
  readonly partner: string | null;
  readonly slot?: Date;
  readonly rerun?: boolean;
}

export interface RunDeps extends Omit<StepDeps, 'engine'> {
  /** Key prefix of the project in the store. */
  readonly prefix: string;
  /** A fresh engine per run, confined to the attempt's staging prefix; closed when the run ends. */
  readonly openEngine: (scope?: { readonly stagingPrefix: string }) => Promise<QueryEngine>;
  /** Removes what runs that died left on this machine (scratch folders, temp files); every run calls it first. */
  readonly removeLeftovers?: () => Promise<unknown>;
  readonly onStep?: (step: StepName, plan: RunPlan) => void;
  readonly onProgress?: (p: RenderProgress) => void;
}

export interface RunOutcome {
  /** `busy`: another attempt owns the slot; this one touched nothing of it. */
  readonly status: 'delivered' | 'already-delivered' | 'failed' | 'validation-failed' | 'busy';
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
  /** Work after the commit point left for the next run or `dropkit repair` (the drop is delivered). */
  readonly pending?: readonly string[];
}

/**
 * Runs one slot in process: the same steps a state machine runs on AWS, in a loop. A failure
 * before the manifest rolls the attempt back (failRun); after it, the run is delivered and rolls
 * forward. A slot already delivered is repaired if its run died after the commit point.
 */
export async function runSlot(request: RunRequest, deps: RunDeps): Promise<RunOutcome> {
  // Before the plan: a slot already delivered opens no engine, yet a dead run of it may have left scratch behind.
  await deps.removeLeftovers?.().catch(() => undefined);
  const planned = await planStep({ feed: request.feed, partner: request.partner, slot: request.slot?.toISOString(), rerun: request.rerun }, deps);
  if (planned.status === 'already-delivered') {
    const repaired = await repairDelivered(planned.delivered, deps);
    // A dead attempt at a newer revision of the slot (a crashed rerun) may have left files without a manifest.
    const { feed, partner, slot } = planned.delivered;
    await repairAll({ prefix: deps.prefix, feed, slot: { id: slot, partner } }, deps).catch(() => undefined);
    return { ...refOutcome('already-delivered', planned.delivered), notifications: [], pending: repaired.pending };
  }
  if (planned.status === 'busy') {
    const { plan, holder } = planned;
    return {
      status: 'busy',
      feed: plan.feed,
      partner: plan.partner,
      slot: plan.slot.id,
      runId: plan.runId,
      revision: plan.revision,
      manifestKey: null,
      notifications: [],
      error: {
        step: 'plan',
        name: 'SlotBusyError',
        message: `another run (attempt ${holder.attemptId}, started ${holder.acquiredAt}) is delivering this slot; nothing was done`,
      },
    };
  }

  let state: RunState = planned.state;
  const plan = state.plan;
  let step: StepName = 'plan';
  const enter = (s: StepName) => {
    step = s;
    deps.onStep?.(s, plan);
  };
  let engine: QueryEngine | undefined;
  let published: Awaited<ReturnType<typeof publishStep>> | undefined;
  const keeper = leaseKeeper(state.lease, deps);
  try {
    enter('stage');
    engine = await deps.openEngine({ stagingPrefix: state.stagingPrefix });
    const stepDeps: StepDeps = { ...deps, engine };
    state = await stageStep(state, stepDeps);

    enter('validate');
    state = await validateStep(state, stepDeps);
    assertPublishable(plan.feed, state.validation!);

    enter('render');
    state = await renderStep(state, { ...stepDeps, onProgress: deps.onProgress });

    enter('publish');
    state = { ...state, lease: await keeper.stop() };
    published = await publishStep(state, stepDeps);

    enter('notify');
    const ref = deliveredRef(plan, published.manifestKey);
    const notice = await notifyStep(ref, deps);
    await releaseLease(deps.store, state.lease).catch(() => undefined);
    return {
      ...refOutcome('delivered', ref),
      manifest: published.manifest,
      validation: state.validation,
      notifications: notice.outcomes,
      pending: published.pending,
    };
  } catch (e) {
    await keeper.stop().catch(() => undefined);
    const error = { name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) };
    if (published) {
      // Past the commit point (the notice could not be recorded): delivered; the next run or repair finishes it.
      await releaseLease(deps.store, state.lease).catch(() => undefined);
      const ref = deliveredRef(plan, published.manifestKey);
      return {
        ...refOutcome('delivered', ref),
        manifest: published.manifest,
        validation: state.validation,
        notifications: [],
        pending: [...published.pending, `notify: ${error.message}`],
      };
    }
    const failed = await failRunStep({ state: { ...state, lease: keeper.current() }, step, error }, { ...deps, engine });
    if (failed.status === 'delivered') {
      // The manifest was written before the failure: delivered, and the notice still goes out.
      const ref = deliveredRef(plan, failed.manifestKey);
      const notice = await notifyStep(ref, deps).catch(() => undefined);
      await releaseLease(deps.store, keeper.current()).catch(() => undefined);
      const manifest = await readManifest(deps, failed.manifestKey);
      return {
        ...refOutcome('delivered', ref),
        manifest,
        validation: state.validation,
        notifications: notice?.outcomes ?? [],
        pending: [...failed.pending, ...(notice ? [] : ['notify: not sent'])],
      };
    }
    const base = {
      feed: plan.feed,
      partner: plan.partner,
      slot: plan.slot.id,
      runId: plan.runId,
      revision: plan.revision,
      manifestKey: null,
      validation: state.validation,
      error: { step, ...error },
    };
    if (failed.status === 'busy') return { ...base, status: 'busy', notifications: [] };
    return { ...base, status: failed.status === 'validation_failed' ? 'validation-failed' : 'failed', notifications: failed.notifications };
  } finally {
    await keeper.stop().catch(() => undefined);
    // The outcome is decided by now: an engine that fails to close must not turn it into a rejection
    // (a delivered drop reported as an error). Its scratch folder goes with the next run after this process.
    await engine?.close().catch(() => undefined);
  }
}

function deliveredRef(plan: RunPlan, manifestKey: string): DeliveredRef {
  return { feed: plan.feed, partner: plan.partner, prefix: plan.prefix, slot: plan.slot.id, runId: plan.runId, revision: plan.revision, manifestKey };
}

function refOutcome(status: RunOutcome['status'], ref: DeliveredRef) {
  return { status, feed: ref.feed, partner: ref.partner, slot: ref.slot, runId: ref.runId, revision: ref.revision, manifestKey: ref.manifestKey };
}

async function readManifest(deps: RunDeps, key: string): Promise<Manifest | undefined> {
  const got = await deps.store.get(key).catch(() => undefined);
  return got ? (JSON.parse(got.body.toString('utf8')) as Manifest) : undefined;
}

/**
 * Renews the lease in the background while the run works, so a long step does not let it expire.
 * `stop` waits for a renewal in flight and hands back the lease as last written.
 */
function leaseKeeper(initial: HeldLease, deps: Pick<RunDeps, 'store' | 'clock' | 'lease'>) {
  let held = initial;
  let chain: Promise<void> = Promise.resolve();
  let lost: unknown;
  const every = Math.max(1000, (deps.lease.ttlSeconds * 1000) / 3);
  const timer = setInterval(() => {
    chain = chain.then(async () => {
      try {
        held = await renewLease(deps.store, held, deps.clock.now(), deps.lease.ttlSeconds);
      } catch (e) {
        lost = e;
        clearInterval(timer);
      }
    });
  }, every);
  timer.unref();
  return {
    current: () => held,
    async stop(): Promise<HeldLease> {
      clearInterval(timer);
      await chain;
      if (lost) throw lost;
      return held;
    },
  };
}

export { ValidationFailedError };
