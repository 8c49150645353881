import { runIdentity } from '../manifest';
import type { NotifyOutcome } from '../ports/notifier';
import { readLease, releaseLease } from '../lease';
import type { RunRecord, StepName } from '../run-record';
import { sha256Hex } from '../hash';
import { failureEvent, sendAll } from './notify';
import { validationFailedEvent } from '../notices/events';
import { writeRunRecord } from '../run-record-store';
import { rollForward } from './roll-forward';
import type { RunState } from './run-state';
import type { StepDeps } from './step-deps';
import { GRAPH_ERRORS } from '../graph/step-graph';
import { parseStoreJson } from '../store-json';
import { manifestSchema } from '../manifest-schema';

export interface FailRunInput {
  readonly state: RunState;
  readonly step: StepName;
  readonly error: { readonly name: string; readonly message: string };
}

export type FailRunResult =
  | { readonly status: 'failed' | 'validation-failed'; readonly notifications: readonly NotifyOutcome[]; readonly cleanup: readonly string[] }
  /** Another attempt owns the slot: this one removed its own staging and nothing else. */
  | { readonly status: 'busy'; readonly cleanup: readonly string[] }
  /** The manifest was written before the failure: the run is delivered, and rolled forward instead. */
  | { readonly status: 'delivered'; readonly manifestKey: string; readonly pending: readonly string[] };

/**
 * The target of every failure (a state machine's Catch, the local runner's catch). Before the
 * commit point it rolls the attempt back: its staging and whatever it moved into the drop's folder
 * go, the run is recorded as failed with its step and error, and the operators are told. If the
 * manifest is there, the run was delivered after all and is rolled forward, never reported failed.
 */
export async function failRunStep(
  input: FailRunInput,
  deps: Pick<StepDeps, 'store' | 'clock' | 'feeds' | 'operators' | 'lease'> & Partial<Pick<StepDeps, 'engine'>>,
): Promise<FailRunResult> {
  const { state, step, error } = input;
  const { plan } = state;
  const { store } = deps;
  const lease = await readLease(store, state.lease.key).catch(() => undefined);
  if (lease && lease.attemptId !== state.attemptId) {
    // Fenced off: the slot's drop folder, record and lease are the other attempt's.
    const cleanup: string[] = [];
    await store.deletePrefix(state.stagingPrefix).catch((e: unknown) => cleanup.push(`remove staging: ${String(e)}`));
    return { status: 'busy', cleanup };
  }
  const committed = await store.get(plan.keys.manifest).catch(() => undefined);
  if (committed) {
    const manifest = parseStoreJson(plan.keys.manifest, committed.body, manifestSchema);
    if (manifest.runId === plan.runId) {
      const rolled = await rollForward(state, { manifest, manifestKey: plan.keys.manifest, manifestSha256: sha256Hex(committed.body) }, deps);
      return { status: 'delivered', manifestKey: plan.keys.manifest, pending: rolled.pending };
    }
  }
  const cleanup: string[] = [];
  const tidy = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (e) {
      cleanup.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  if (state.staged && deps.engine) {
    const staged = state.staged;
    await tidy('drop the staged table', () => deps.engine!.dropStaged(staged));
  }
  await tidy('remove staging', () => store.deletePrefix(state.stagingPrefix));
  // Only files: the manifest is not there (checked above), so nothing here was ever delivered.
  await tidy('remove undelivered files', () => store.deletePrefix(plan.keys.drop));

  const status = error.name === GRAPH_ERRORS.validationFailed ? 'validation-failed' : 'failed';
  {
    const base: RunRecord = {
      ...runIdentity(plan),
      attemptId: state.attemptId,
      status,
      step,
      startedAt: state.timings.startedAt,
      finishedAt: deps.clock.now().toISOString(),
      error,
      validation: state.validation ?? null,
      manifest: null,
      rowCount: state.staged?.rowCount ?? null,
      // A rejected or timed-out sign-off: who decided, when and why stays in the history.
      ...(state.approval && state.approval.outcome !== 'not-required' ? { approval: state.approval } : {}),
      noticeSent: false,
      notifications: [],
      pending: cleanup,
    };
    // Operators hear which checks failed (validation.failed), or which step broke (run.failed).
    const alert = validationFailedEvent(base, deps.clock.now()) ?? {
      ...failureEvent(plan, step, error, deps.clock.now()),
      id: `${plan.runId}.${state.attemptId}.failed`,
    };
    const outcomes = await sendAll(alert, deps.operators);
    const record: RunRecord = { ...base, notifications: outcomes };
    await tidy('write the run record', () => writeRunRecord(store, plan.keys.runRecord, record));
    await tidy('release the lease', () => releaseLease(store, state.lease));
    return { status, notifications: outcomes, cleanup };
  }
}
