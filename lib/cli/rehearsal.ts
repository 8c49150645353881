import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../core/errors';
import type { Notifier, NotifyOutcome } from '../core/ports/notifier';
import type { Project } from '../project/load-project';
import type { RunDeps } from '../runner/run-slot';
import { storeChoice } from './args';
import { localContext } from './local-context';
import type { Progress } from './progress';

/** The options `run` and `backfill` share for rehearsals. */
export const rehearsalOptions = {
  'dry-run': { type: 'boolean', default: false },
  notify: { type: 'boolean', default: false },
} as const;

/** A notifier that says what it would have sent, and sends nothing. */
class HeldNotifier implements Notifier {
  constructor(
    private readonly inner: Notifier,
    private readonly reason: string,
  ) {}
  get target(): string {
    return this.inner.target;
  }
  async notify(): Promise<NotifyOutcome> {
    return { target: this.inner.target, status: 'skipped', attempts: 0, detail: `not sent: ${this.reason}` };
  }
}

/**
 * Why a run's notices are held, or undefined when they go out. A dry run tells nobody. A run into
 * a scratch folder (`--out`) or acting at a future `--now` is a rehearsal too: partners would get
 * links to a folder they cannot reach, or events stamped in the future. `--notify` sends anyway.
 */
export function noticesHeldBecause(values: { 'dry-run'?: boolean; notify?: boolean; out?: string; now?: string }, realNow: Date): string | undefined {
  if (values['dry-run']) return 'dry run';
  if (values.notify) return undefined;
  if (values.out !== undefined) return `--out ${values.out} is not the project's store; add --notify to tell partners anyway`;
  if (values.now !== undefined && Date.parse(values.now) > realNow.getTime())
    return `--now ${values.now} is in the future; add --notify to tell partners anyway`;
  return undefined;
}

/** The run's dependencies with every notice held: consumers and operators alike. */
export function holdNotices(deps: RunDeps, reason: string): RunDeps {
  return {
    ...deps,
    consumers: (feed, partner) => deps.consumers(feed, partner).map((n) => new HeldNotifier(n, reason)),
    operators: deps.operators.map((n) => new HeldNotifier(n, reason)),
  };
}

/** A fresh scratch folder for a dry run's store: nothing of the project's store is touched. */
export function scratchStore(): string {
  return mkdtempSync(join(tmpdir(), 'dropkit-dry-run-'));
}

/** The options of `run` and `backfill` that decide where a run goes and whether it tells anyone. */
interface RunValues {
  readonly 'dry-run'?: boolean;
  readonly notify?: boolean;
  readonly out?: string;
  readonly now?: string;
  readonly json?: boolean;
  readonly store?: string;
  readonly engine?: string;
  readonly workgroup?: string;
  readonly 'staging-database'?: string;
}

/**
 * The context `run` and `backfill` run in: a dry run in a scratch folder, notices held where the
 * run is a rehearsal (noticesHeldBecause), and what the command's output says of that.
 */
export function runContext(command: 'run' | 'backfill', project: Project, values: RunValues, progress: Progress) {
  const dryRun = values['dry-run'] ?? false;
  if (dryRun && values.store) throw new UsageError(`dropkit ${command} --dry-run works in a scratch folder; it takes no --store`);
  const held = noticesHeldBecause(values, new Date());
  const out = dryRun ? (values.out ?? scratchStore()) : values.out;
  const ctx = localContext(project, { out, now: values.now, console: !values.json && !held, progress, ...storeChoice(values) });
  return {
    ctx,
    dryRun,
    held,
    /** The run's dependencies: notices held when the run is a rehearsal. */
    deps: held ? holdNotices(ctx.deps, held) : ctx.deps,
    /** What `--json` output says of the rehearsal. */
    json: { dryRun, noticesHeld: held ?? null, ...(dryRun ? { scratch: ctx.storeRoot } : {}) },
    /** The last line of the text output, if the run was a rehearsal. */
    lines: dryRun
      ? [`dry run: staged, validated and rendered into ${ctx.storeRoot}; nothing was published to the project's store and nobody was told`]
      : held
        ? [`notices held: ${held}`]
        : [],
  };
}
