import { join, resolve } from 'node:path';
import { DuckDbEngine } from '../adapters/duckdb/duckdb-engine';
import { LocalLinkSigner } from '../adapters/local/local-link-signer';
import { LocalStore } from '../adapters/local/local-store';
import type { Clock } from '../ports/clock';
import { fixedClock, systemClock } from '../ports/clock';
import type { FeedDefinition } from '../core/feed/feed-definition';
import type { Project } from '../project/load-project';
import { consumerNotifiers, operatorNotifiers } from '../runner/local-notifiers';
import type { RunDeps } from '../runner/run-slot';
import { parseTimeArg } from './args';
import type { Progress } from './progress';

export interface LocalContextOptions {
  readonly out?: string;
  readonly now?: string;
  readonly console: boolean;
  readonly progress?: Progress;
}

/** Wires the embedded default: DuckDB over the project's sources, a local folder store, file links. */
export function localContext(project: Project, options: LocalContextOptions) {
  const storeRoot = options.out ? resolve(options.out) : project.outputDir;
  const store = new LocalStore(storeRoot);
  // Parsed here, for every command that takes --now: a bad value is a usage error, not an Invalid Date mid-run.
  const clock: Clock = options.now ? fixedClock(parseTimeArg('--now', options.now)) : systemClock;
  const workDir = join(storeRoot, '_work');
  const progress = options.progress;
  const depsFor = (feed: FeedDefinition, partner: string | null): RunDeps => ({
    store,
    signer: new LocalLinkSigner(store),
    clock,
    openEngine: () => DuckDbEngine.open({ sources: project.sources, workDir }),
    consumers: consumerNotifiers(feed, partner, { storeRoot, console: options.console }),
    // The CLI prints a failed run itself; the outbox keeps the event for whoever watches it.
    operators: operatorNotifiers({ storeRoot, console: false }),
    workDir,
    onStep: progress ? (step, plan) => (step === 'stage' && progress.run(`${plan.feed}${plan.partner ? ` [${plan.partner}]` : ''} ${plan.slot.id}`), progress.step(step)) : undefined,
    onProgress: progress ? (p) => progress.written(p.format, p.rows, p.bytes) : undefined,
  });
  return { store, storeRoot, clock, depsFor };
}
