import type { NotifyOutcome } from '../core/ports/notifier';
import type { QueryEngine } from '../core/ports/query-engine';
import { ApprovalState, approvalKey, decideHold, expiredHolds, HELD, HoldRecord, readHold } from '../core/approval/approval';
import { approveStep } from '../core/approval/approve-step';
import { ValidationFailedError } from '../core/errors';
import { deliveredRefOf, branchError, pushDelivered, repairSlot } from '../core/graph/node-tasks';
import { NodeName, RunStatus, START_NODE, STEP_GRAPH, Target, validateOutcome } from '../core/graph/step-graph';
import { renewLease, releaseLease, HeldLease } from '../core/lease';
import { slotId } from '../core/slots';
import type { Manifest } from '../core/manifest';
import type { StepName } from '../core/run-record';
import { planStep, PlanOutput } from '../core/steps/plan-step';
import { failRunStep, FailRunResult } from '../core/steps/fail-run';
import { notifyStep } from '../core/steps/notify';
import type { DeliveredRef, RunPlan } from '../core/steps/run-plan';
import { publishStep, PublishResult } from '../core/steps/publish';
import type { RenderProgress } from '../core/steps/render';
import { renderStep } from '../core/steps/render';
import type { RunState } from '../core/steps/run-state';
import { stageStep } from '../core/steps/stage';
import type { StepDeps } from '../core/steps/step-deps';
import { validateStep, ValidationReport } from '../core/steps/validate';
import { parseStoreJson } from '../core/store-json';
import { manifestSchema } from '../core/manifest-schema';

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
  /** Each node of the step graph as the walk enters it. */
  readonly onNode?: (node: NodeName) => void;
  readonly onProgress?: (p: RenderProgress) => void;
}

export interface RunOutcome {
  /** `busy`: another attempt owns the slot; this one touched nothing of it. */
  readonly status: RunStatus;
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
  /** The graph nodes the run went through, in order. */
  readonly trail?: readonly NodeName[];
  /** Operator alerts the graph raised (a notice not sent, a failed rollback): the state machine sends these to the ops topic. */
  readonly alerts?: readonly string[];
  /** The sign-off gate's verdict, once the run reached it (held: who may decide, by when). */
  readonly approval?: ApprovalState;
}

/** An approver's decision on a held drop (`dropkit approve|reject`), or the timeout. */
export interface DecideRequest {
  readonly feed: string;
  readonly partner: string | null;
  readonly slot: Date;
  readonly decision: 'approved' | 'rejected' | 'timed-out';
  readonly by?: string;
  readonly reason?: string;
}

/**
 * Runs one slot in process by interpreting the step graph (lib/core/graph/step-graph.ts): the
 * state machine on AWS is compiled from the same graph. A failure before the manifest rolls the
 * attempt back (failRun); after it, the run is delivered and rolls forward. A slot already
 * delivered is repaired (its own run, and a dead newer attempt).
 */
export async function runSlot(request: RunRequest, deps: RunDeps): Promise<RunOutcome> {
  // Before the plan: a slot already delivered opens no engine, yet a dead run of it may have left scratch behind.
  await deps.removeLeftovers?.().catch(() => undefined);
  // A drop of this feed held past its approval timeout is rolled back first (its lease has expired, so this run may take the slot).
  for (const key of await expiredHolds(deps.store, deps.prefix, deps.clock.now(), request.feed)) await resumeHeld(key, { decision: 'timed-out' }, deps);
  const run = new LocalRun(request, deps);
  try {
    return await run.interpret();
  } finally {
    await run.close();
  }
}

/**
 * Resumes a held drop at the step graph's approve node with the decision: approved → publish and
 * notify; rejected (or past the deadline, whatever was asked) → failRun rolls the attempt back.
 */
export async function decideSlot(request: DecideRequest, deps: RunDeps): Promise<RunOutcome> {
  const key = approvalKey({ prefix: deps.prefix, feed: deps.feeds.get(request.feed).spec.name, partner: request.partner }, slotId(request.slot));
  return resumeHeld(key, request, deps);
}

/** Every held drop past its deadline rolled back (`dropkit sla`): the timeout is recorded as the run's failure at approve. */
export async function expireHeldDrops(deps: RunDeps, feed?: string): Promise<RunOutcome[]> {
  const out: RunOutcome[] = [];
  for (const key of await expiredHolds(deps.store, deps.prefix, deps.clock.now(), feed)) out.push(await resumeHeld(key, { decision: 'timed-out' }, deps));
  return out;
}

async function resumeHeld(key: string, asked: Pick<DecideRequest, 'decision' | 'by' | 'reason'>, deps: RunDeps): Promise<RunOutcome> {
  const record = await decideHold(deps.store, key, asked, deps.clock.now());
  const run = new LocalRun({ feed: record.feed, partner: record.partner, slot: new Date(record.state.plan.slot.scheduledFor) }, deps, record);
  try {
    return await run.interpret('approve');
  } finally {
    await run.close();
  }
}

/** One walk of the graph: the nodes' tasks in process, and what they leave for the outcome. */
class LocalRun {
  private planned?: PlanOutput;
  private state?: RunState;
  private engine?: QueryEngine;
  private keeper?: ReturnType<typeof leaseKeeper>;
  private published?: PublishResult;
  private failed?: FailRunResult;
  private failure?: { step: StepName; name: string; message: string };
  private notifications: readonly NotifyOutcome[] = [];
  private readonly pending: string[] = [];
  private readonly alerts: string[] = [];
  private readonly trail: NodeName[] = [];

  constructor(
    private readonly request: RunRequest,
    private readonly deps: RunDeps,
    /** A held drop with its decision: the walk starts at the approve node with this attempt's state. */
    private readonly resumed?: HoldRecord,
  ) {
    if (resumed) {
      this.planned = { status: 'planned', state: resumed.state };
      this.state = resumed.state;
      this.keeper = leaseKeeper(resumed.state.lease, deps);
    }
  }

  async interpret(start: NodeName = START_NODE): Promise<RunOutcome> {
    let node: NodeName = start;
    for (;;) {
      this.trail.push(node);
      this.deps.onNode?.(node);
      let target: Target;
      try {
        const outcome = await this.task(node);
        // Held for a decision: the walk ends here and the decision resumes it at this node.
        const holds = STEP_GRAPH[node].holds;
        if (outcome === HELD && holds) return this.outcome(holds);
        target = STEP_GRAPH[node].on[outcome];
        if (!target) throw new Error(`the step graph has no branch for outcome "${outcome}" of ${node}`);
      } catch (e) {
        target = STEP_GRAPH[node].onError;
        // No plan, no run to report on: the person at the CLI is the operator, and sees the error.
        if (node === 'plan') throw e;
        const error = { name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) };
        if ('failRun' in target) this.failure = { step: target.failRun, ...error };
        else this.pending.push(`${node}: ${error.message}`);
      }
      if ('next' in target) {
        if (target.alert) this.alerts.push(target.alert);
        node = target.next;
      } else if ('failRun' in target) {
        if (target.error) this.failure = { step: target.failRun, ...branchError(target.error, this.state!) };
        node = 'failRun';
      } else {
        if (target.alert) this.alerts.push(target.alert);
        return this.outcome(target.end);
      }
    }
  }

  private async task(node: NodeName): Promise<string> {
    const { deps } = this;
    switch (node) {
      case 'plan': {
        const r = this.request;
        this.planned = await planStep({ feed: r.feed, partner: r.partner, slot: r.slot?.toISOString(), rerun: r.rerun }, deps);
        if (this.planned.status === 'planned') {
          this.state = this.planned.state;
          this.keeper = leaseKeeper(this.state.lease, deps);
        }
        return this.planned.status;
      }
      case 'repair': {
        const repaired = await repairSlot(this.ref(), deps);
        this.pending.push(...repaired.delivered.pending);
        return 'ok';
      }
      case 'stage':
        this.enter('stage');
        this.engine = await deps.openEngine({ stagingPrefix: this.state!.stagingPrefix });
        this.state = await stageStep(this.state!, this.stepDeps());
        return 'ok';
      case 'validate':
        this.enter('validate');
        this.state = await validateStep(this.state!, this.stepDeps());
        return validateOutcome(this.state.validation);
      case 'render':
        this.enter('render');
        this.state = await renderStep(this.state!, { ...this.stepDeps(), onProgress: deps.onProgress });
        return 'ok';
      case 'approve': {
        this.enter('approve');
        if (this.resumed) {
          this.engine = await deps.openEngine({ stagingPrefix: this.state!.stagingPrefix });
          this.state = { ...this.state!, approval: this.resumed.approval };
          return this.resumed.approval.outcome;
        }
        // The gate may extend the lease to its deadline: no background renewal meanwhile.
        const lease = await this.keeper!.stop();
        this.state = await approveStep({ ...this.state!, lease }, deps);
        const approval = this.state.approval!;
        if (approval.outcome !== HELD) {
          this.keeper = leaseKeeper(this.state.lease, deps);
          return approval.outcome;
        }
        // Held: the lease is kept to the deadline; the decision, or the first run or `dropkit sla` after it, ends the attempt.
        this.keeper = heldKeeper(this.state.lease);
        return HELD;
      }
      case 'publish':
        this.enter('publish');
        this.state = { ...this.state!, lease: await this.keeper!.stop() };
        this.published = await publishStep(this.state, this.stepDeps());
        this.pending.push(...this.published.pending);
        return 'ok';
      case 'push':
      case 'pushRecovered':
      case 'pushRepaired': {
        // push and pushRecovered run under this attempt's lease (renewed while pushing); pushRepaired holds none.
        const pushed = await pushDelivered(this.ref(), deps, node === 'pushRepaired' ? undefined : this.state!.attemptId);
        this.pending.push(...pushed.failed.map((f) => `push: ${f}`));
        return pushed.status;
      }
      case 'notify':
      case 'notifyRecovered': {
        if (node === 'notify') this.enter('notify');
        try {
          const notice = await notifyStep(this.ref(), deps);
          this.notifications = notice.outcomes;
        } finally {
          // Delivered either way: the slot is free for the next run, which finishes a notice left unsent.
          await releaseLease(deps.store, this.keeper!.current()).catch(() => undefined);
        }
        return 'ok';
      }
      case 'failRun': {
        await this.keeper!.stop().catch(() => undefined);
        const { step, ...error } = this.failure!;
        this.failed = await failRunStep({ state: { ...this.state!, lease: this.keeper!.current() }, step, error }, { ...deps, engine: this.engine });
        if (this.failed.status === 'delivered') this.pending.push(...this.failed.pending);
        else if (this.failed.status !== 'busy') this.notifications = this.failed.notifications;
        return this.failed.status;
      }
    }
  }

  private enter(step: StepName): void {
    this.deps.onStep?.(step, this.state!.plan);
  }

  private stepDeps(): StepDeps {
    return { ...this.deps, engine: this.engine! };
  }

  /** The delivered run this walk is about: the slot's delivered run, or this attempt's once its manifest exists. */
  private ref(): DeliveredRef {
    if (this.planned?.status === 'already-delivered') return this.planned.delivered;
    const key = this.published?.manifestKey ?? (this.failed?.status === 'delivered' ? this.failed.manifestKey : undefined);
    if (!key) throw new Error('no manifest was written by this attempt');
    return deliveredRefOf(this.state!.plan, key);
  }

  private async outcome(status: RunStatus): Promise<RunOutcome> {
    const planned = this.planned!;
    const trail = [...this.trail];
    const alerts = [...this.alerts];
    if (planned.status === 'already-delivered') {
      return { ...refOutcome(status, planned.delivered), notifications: [], pending: this.pending, trail, alerts };
    }
    const plan = planned.status === 'busy' ? planned.plan : planned.state.plan;
    const base = {
      status,
      feed: plan.feed,
      partner: plan.partner,
      slot: plan.slot.id,
      runId: plan.runId,
      revision: plan.revision,
      trail,
      alerts,
    };
    if (planned.status === 'busy') {
      const { holder } = planned;
      // The holder may be a drop held for sign-off: say so, and how to decide.
      const held = await readHold(this.deps.store, approvalKey({ prefix: plan.prefix, feed: plan.feed, partner: plan.partner }, plan.slot.id)).catch(
        () => undefined,
      );
      const waiting = held?.record.status === HELD && held.record.attemptId === holder.attemptId ? held.record.approval : undefined;
      return {
        ...base,
        manifestKey: null,
        notifications: [],
        ...(waiting ? { approval: waiting } : {}),
        error: {
          step: 'plan',
          name: 'SlotBusyError',
          message: waiting
            ? `the slot's drop (attempt ${holder.attemptId}) is held for approval until ${waiting.deadline}; nothing was done: dropkit approve|reject ${plan.feed} --slot ${plan.slot.id}${plan.partner ? ` --partner ${plan.partner}` : ''} --by … --reason …`
            : `another run (attempt ${holder.attemptId}, started ${holder.acquiredAt}) is delivering this slot; nothing was done`,
        },
      };
    }
    if (status === 'awaiting-approval') {
      return { ...base, manifestKey: null, validation: this.state!.validation, approval: this.state!.approval, notifications: this.notifications };
    }
    if (status === 'delivered') {
      const ref = this.ref();
      const manifest = this.published?.manifest ?? (await readManifest(this.deps, ref.manifestKey));
      return {
        ...base,
        manifestKey: ref.manifestKey,
        manifest,
        validation: this.state!.validation,
        ...(this.state?.approval ? { approval: this.state.approval } : {}),
        notifications: this.notifications,
        pending: this.pending,
      };
    }
    const { step, name, message } = this.failure!;
    return {
      ...base,
      manifestKey: null,
      validation: this.state!.validation,
      ...(this.state?.approval ? { approval: this.state.approval } : {}),
      error: { step, name, message },
      notifications: status === 'busy' ? [] : this.notifications,
    };
  }

  async close(): Promise<void> {
    await this.keeper?.stop().catch(() => undefined);
    // The outcome is decided by now: an engine that fails to close must not turn it into a rejection
    // (a delivered drop reported as an error). Its scratch folder goes with the next run after this process.
    await this.engine?.close().catch(() => undefined);
  }
}

function refOutcome(status: RunStatus, ref: DeliveredRef) {
  return { status, feed: ref.feed, partner: ref.partner, slot: ref.slot, runId: ref.runId, revision: ref.revision, manifestKey: ref.manifestKey };
}

async function readManifest(deps: RunDeps, key: string): Promise<Manifest | undefined> {
  const got = await deps.store.get(key).catch(() => undefined);
  return got ? parseStoreJson(key, got.body, manifestSchema) : undefined;
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

/** The lease of a held drop: renewed to the approval deadline once, then left alone until the decision. */
function heldKeeper(lease: HeldLease): ReturnType<typeof leaseKeeper> {
  return { current: () => lease, stop: async () => lease };
}

export { ValidationFailedError };
