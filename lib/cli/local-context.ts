import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDbEngine } from '../adapters/duckdb/duckdb-engine';
import { LocalLinkSigner } from '../adapters/local/local-link-signer';
import { LocalStore } from '../adapters/local/local-store';
import type { Clock } from '../ports/clock';
import { fixedClock, systemClock } from '../ports/clock';
import type { Notifier } from '../ports/notifier';
import type { FeedDefinition } from '../core/feed/feed-definition';
import { DEFAULT_LEASE_TTL_SECONDS, feedCatalog } from '../core/steps/step-deps';
import type { Project } from '../project/load-project';
import { consumerNotifiers, operatorNotifiers } from '../runner/local-notifiers';
import { removeDeadLeftovers } from '../runner/leftovers';
import type { RunDeps } from '../runner/run-slot';
import { parseTimeArg } from './args';
import type { Progress } from './progress';

export interface LocalContextOptions {
  readonly out?: string;
  readonly now?: string;
  readonly console: boolean;
  readonly progress?: Progress;
}

/** Whether a process on this machine is still running (a lease or scratch folder of a dead one can go). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wires the embedded default: DuckDB over the project's sources, a local folder store, file links. */
export function localContext(project: Project, options: LocalContextOptions) {
  const storeRoot = options.out ? resolve(options.out) : project.outputDir;
  const store = new LocalStore(storeRoot);
  const clock: Clock = options.now ? fixedClock(parseTimeArg('--now', options.now)) : systemClock;
  const workDir = join(storeRoot, '_work');
  const progress = options.progress;
  const consumers = new Map<string, Notifier[]>();
  const consumersFor = (feed: FeedDefinition, partner: string | null): Notifier[] => {
    const key = `${feed.spec.name}\n${partner ?? ''}`;
    if (!consumers.has(key)) consumers.set(key, consumerNotifiers(feed, partner, { storeRoot, console: options.console }));
    return consumers.get(key)!;
  };
  const deps: RunDeps = {
    store,
    clock,
    prefix: project.spec.prefix,
    feeds: feedCatalog(project.feeds),
    signer: new LocalLinkSigner(store),
    consumers: consumersFor,
    // The CLI prints a failed run itself; the outbox keeps the event for whoever watches it.
    operators: operatorNotifiers({ storeRoot, console: false }),
    lease: { ttlSeconds: DEFAULT_LEASE_TTL_SECONDS, host: hostname(), pid: process.pid, isAlive: processAlive },
    newAttemptId: () => randomBytes(6).toString('hex'),
    removeLeftovers: () => removeDeadLeftovers(workDir, store, processAlive),
    openEngine: () => DuckDbEngine.open({ store, sources: project.sources, workDir, prefix: project.spec.prefix }),
    onStep: progress ? (step, plan) => (step === 'stage' && progress.run(`${plan.feed}${plan.partner ? ` [${plan.partner}]` : ''} ${plan.slot.id}`), progress.step(step)) : undefined,
    onProgress: progress ? (p) => progress.written(p.format, p.rows, p.bytes) : undefined,
  };
  return { store, storeRoot, clock, deps, consumersFor };
}
