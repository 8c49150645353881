import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { LocalLinkSigner } from '../../lib/adapters/local/local-link-signer';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { processAlive } from '../../lib/adapters/local/process-identity';
import { pidNamespaceId } from '../../lib/adapters/local/process-identity';
import { feedCatalog } from '../../lib/core/steps/step-deps';
import { fixedClock } from '../../lib/core/ports/clock';
import type { ObjectStore } from '../../lib/core/ports/object-store';
import { loadProject, Project } from '../../lib/project/load-project';
import { consumerNotifiers, operatorNotifiers } from '../../lib/runner/local-notifiers';
import { runSlot, RunDeps, RunOutcome } from '../../lib/runner/run-slot';

/** The deps `dropkit run` wires for a test project, at a fixed "now", over `store` (default: the project's folder). */
export function localDeps(project: Project, options: { now?: string; store?: ObjectStore; local?: LocalStore } = {}): RunDeps {
  const local = options.local ?? new LocalStore(project.outputDir);
  const store = options.store ?? local;
  return {
    store,
    clock: fixedClock(options.now ?? '2024-01-20T00:00:00Z'),
    prefix: project.spec.prefix,
    feeds: feedCatalog(project.feeds),
    signer: new LocalLinkSigner(local),
    consumers: (feed, partner) => consumerNotifiers(feed, partner, { storeRoot: project.outputDir, console: false }),
    operators: operatorNotifiers({ storeRoot: project.outputDir, console: false }),
    lease: { ttlSeconds: 3600, host: hostname(), pid: process.pid, pidNamespace: pidNamespaceId(), isAlive: processAlive },
    newAttemptId: () => randomBytes(6).toString('hex'),
    openEngine: (scope) =>
      DuckDbEngine.open({
        store,
        sources: project.sources,
        workDir: join(project.outputDir, '_work'),
        prefix: project.spec.prefix,
        stagingPrefix: scope?.stagingPrefix,
      }),
  };
}

/** Runs one slot of a feed of a test project, the way `dropkit run` does, at a fixed "now". */
export async function runFeed(
  projectDir: string,
  feedName: string,
  options: { slot: string; now?: string; partner?: string | null; rerun?: boolean; store?: (s: LocalStore) => ObjectStore },
): Promise<{ outcome: RunOutcome; store: LocalStore; project: Project }> {
  const project = loadProject(projectDir);
  const local = new LocalStore(project.outputDir);
  const store = options.store ? options.store(local) : local;
  const outcome = await runSlot(
    { feed: feedName, partner: options.partner ?? null, slot: new Date(options.slot), rerun: options.rerun },
    localDeps(project, { now: options.now, store, local }),
  );
  return { outcome, store: local, project };
}

export async function listKeys(store: ObjectStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

export async function readJson<T = any>(store: ObjectStore, key: string): Promise<T> {
  const got = await store.get(key);
  if (!got) throw new Error(`no object ${key}`);
  return JSON.parse(got.body.toString('utf8')) as T;
}
