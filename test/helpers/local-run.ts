import { join } from 'node:path';
import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { LocalLinkSigner } from '../../lib/adapters/local/local-link-signer';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { fixedClock } from '../../lib/ports/clock';
import type { ObjectStore } from '../../lib/ports/object-store';
import { loadProject, Project } from '../../lib/project/load-project';
import { consumerNotifiers, operatorNotifiers } from '../../lib/runner/local-notifiers';
import { runSlot, RunOutcome } from '../../lib/runner/run-slot';

/** Runs one slot of a feed of a test project, the way `dropkit run` does, at a fixed "now". */
export async function runFeed(
  projectDir: string,
  feedName: string,
  options: { slot: string; now?: string; partner?: string | null; rerun?: boolean; store?: (s: LocalStore) => ObjectStore },
): Promise<{ outcome: RunOutcome; store: LocalStore; project: Project }> {
  const project = loadProject(projectDir);
  const feed = project.feeds.find((f) => f.spec.name === feedName)!;
  const local = new LocalStore(project.outputDir);
  const store = options.store ? options.store(local) : local;
  const partner = options.partner ?? null;
  const outcome = await runSlot(
    { feed, prefix: project.spec.prefix, partner, slot: new Date(options.slot), rerun: options.rerun },
    {
      store,
      signer: new LocalLinkSigner(local),
      clock: fixedClock(options.now ?? '2024-01-20T00:00:00Z'),
      openEngine: () => DuckDbEngine.open({ sources: project.sources, workDir: join(project.outputDir, '_work') }),
      consumers: consumerNotifiers(feed, partner, { storeRoot: project.outputDir, console: false }),
      operators: operatorNotifiers({ storeRoot: project.outputDir, console: false }),
      workDir: join(project.outputDir, '_work'),
    },
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
