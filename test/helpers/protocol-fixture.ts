import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { processAlive } from '../../lib/adapters/local/process-identity';
import { repairAll, RepairResult } from '../../lib/core/steps/repair';
import type { ObjectStore } from '../../lib/core/ports/object-store';
import type { QueryEngine } from '../../lib/core/ports/query-engine';
import { loadProject } from '../../lib/project/load-project';
import { runSlot, RunDeps, RunOutcome } from '../../lib/runner/run-slot';
import { localDeps } from './local-run';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, writeParquet } from './temp-project';

/** The earlier slot delivered in the base project (1 row), old enough for retention to remove once slot 16 is delivered. */
export const SLOT_14 = '2024-01-14T06:00:00Z';
/** The slot every protocol test delivers (3 rows: ids 5, 6, 7). */
export const SLOT_16 = '2024-01-16T06:00:00Z';
export const NOW = '2024-01-16T07:00:00Z';
/** When the base project delivered slot 14: more than the one-day retention before NOW. */
export const SLOT_14_DELIVERED = '2024-01-14T07:00:00Z';

/** A project folder the tests copy: the daily feed with one-day retention, slot 14 already delivered. */
export interface BaseProject {
  readonly dir: string;
  /** The run id of slot 14's drop, which retention removes when slot 16 is delivered ('' when not delivered). */
  readonly slot14RunId: string;
  /** A fresh copy of the project (its own store), removed by `cleanup`. */
  copy(): string;
  cleanup(): void;
}

export async function baseProject(options: { feed?: string; sql?: string; deliverSlot14?: boolean } = {}): Promise<BaseProject> {
  const feed = options.feed ?? dailyFeed('daily', 'retention:\n  days: 1\n');
  const project = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': feed, 'feeds/daily.sql': options.sql ?? DAILY_SQL });
  await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
  let slot14RunId = '';
  if (options.deliverSlot14 !== false) {
    // Delivered on its own day: a drop delivered within the retention window is kept whatever its slot.
    const first = await runIn(project.dir, { slot: SLOT_14, now: SLOT_14_DELIVERED });
    if (first.status !== 'delivered') throw new Error(`base project: slot 14 ${first.status}: ${first.error?.message}`);
    slot14RunId = first.runId;
  }
  const copies: string[] = [];
  return {
    dir: project.dir,
    slot14RunId,
    copy() {
      const dir = mkdtempSync(join(scratchRoot(), 'dropkit-protocol-'));
      cpSync(project.dir, dir, { recursive: true });
      copies.push(dir);
      return dir;
    },
    cleanup() {
      for (const d of copies) rmSync(d, { recursive: true, force: true });
      project.cleanup();
    },
  };
}

export interface RunInOptions {
  readonly slot?: string;
  readonly now?: string;
  readonly rerun?: boolean;
  /** Wraps the project's local store (a FaultyStore). */
  readonly store?: (local: LocalStore) => ObjectStore;
  /** Wraps each engine the run opens. */
  readonly engine?: (engine: QueryEngine) => QueryEngine;
  /** Awaited before the run opens its engine (once it holds the slot): holds a winner back. */
  readonly beforeEngine?: () => Promise<void>;
  /**
   * Runs of a process that died: its leases no longer keep anyone out. A run given this recovers
   * as another process would (its own leases carry the parent's pid), so a lease it fails to
   * release is not excused as a dead process's.
   */
  readonly deadPids?: readonly number[];
  readonly newAttemptId?: () => string;
}

/** The deps a run of the project folder gets: `dropkit run`'s, at NOW, with the test's wrappers. */
export function depsIn(dir: string, options: RunInOptions = {}): { deps: RunDeps; local: LocalStore } {
  const project = loadProject(dir);
  const local = new LocalStore(project.outputDir);
  const store = options.store ? options.store(local) : local;
  const base = localDeps(project, { now: options.now ?? NOW, store, local });
  const dead = new Set(options.deadPids ?? []);
  const wrap = options.engine;
  const deps: RunDeps = {
    ...base,
    lease: { ...base.lease, pid: dead.has(process.pid) ? process.ppid : process.pid, isAlive: (pid) => !dead.has(pid) && processAlive(pid) },
    openEngine: async (scope) => {
      await options.beforeEngine?.();
      const engine = await base.openEngine(scope);
      return wrap ? wrap(engine) : engine;
    },
    newAttemptId: options.newAttemptId ?? base.newAttemptId,
  };
  return { deps, local };
}

/** Runs slot 16 (or `slot`) of the daily feed in the project folder. */
export async function runIn(dir: string, options: RunInOptions = {}): Promise<RunOutcome> {
  const { deps } = depsIn(dir, options);
  return runSlot({ feed: 'daily', partner: null, slot: new Date(options.slot ?? SLOT_16), rerun: options.rerun }, deps);
}

/** `dropkit repair` over the project folder. */
export async function repairIn(dir: string, options: RunInOptions = {}): Promise<RepairResult[]> {
  const { deps } = depsIn(dir, options);
  return repairAll({ prefix: deps.prefix }, deps);
}

export function localStoreOf(dir: string): LocalStore {
  return new LocalStore(loadProject(dir).outputDir);
}

/** Where copies go: memory when the machine has it (fsyncs cost nothing there), else the temp folder. */
export function scratchRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/** A daily feed at 06:00 UTC over any SQL, CSV + Parquet, with only a row-count check. */
export function plainFeed(minRows = 1, extra = ''): string {
  return `name: daily
description: protocol test feed
owner: tests@example.com
schedule:
  cron: "0 6 * * *"
  timezone: UTC
sla:
  deliverWithin: PT2H
formats:
  csv:
    gzip: false
  parquet: {}
checks:
  - type: row_count
    min: ${minRows}
${extra}`;
}

/** Resolves within `ms` or rejects naming what hung. */
export function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
