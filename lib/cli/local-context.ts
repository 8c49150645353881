import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { pidNamespaceId, processAlive } from '../adapters/local/process-identity';
import { join, resolve } from 'node:path';
import { DuckDbEngine } from '../adapters/duckdb/duckdb-engine';
import { LocalLinkSigner } from '../adapters/local/local-link-signer';
import { LocalStore } from '../adapters/local/local-store';
import type { Clock } from '../core/ports/clock';
import { fixedClock, systemClock } from '../core/ports/clock';
import type { LinkSigner } from '../core/ports/link-signer';
import type { Notifier } from '../core/ports/notifier';
import type { ObjectStore } from '../core/ports/object-store';
import type { QueryEngine } from '../core/ports/query-engine';
import { UsageError } from '../core/errors';
import type { FeedDefinition } from '../core/feed/feed-definition';
import type { DeliveredRef } from '../core/steps/run-plan';
import type { AttemptLease } from '../core/lease';
import { DEFAULT_LEASE_TTL_SECONDS, feedCatalog } from '../core/steps/step-deps';
import type { Project } from '../project/load-project';
import { consumerNotifiers, operatorNotifiers } from '../runner/local-notifiers';
import { removeDeadLeftovers } from '../runner/leftovers';
import type { RunDeps } from '../runner/run-slot';
import { parseTimeArg } from './args';
import type { Progress } from './progress';
import { LOCAL_WORK_FOLDER } from '../core/layout';

export interface LocalContextOptions {
  readonly out?: string;
  readonly now?: string;
  readonly console: boolean;
  readonly progress?: Progress;
  /** `s3://bucket/prefix`: drops go to S3 instead of the local folder. */
  readonly store?: string;
  /** `duckdb` (default) or `athena`. */
  readonly engine?: string;
  readonly workgroup?: string;
  readonly stagingDatabase?: string;
}

/**
 * Wires a command: by default the embedded pair (DuckDB over the project's sources, a local
 * folder store, file links); with `--store s3://…` the S3 store and presigned links; with
 * `--engine athena` Athena in the given workgroup. The AWS SDK is loaded only when asked for.
 */
export function localContext(project: Project, options: LocalContextOptions) {
  // The local folder keeps the outbox and scratch files even when the drops go to S3.
  const storeRoot = options.out ? resolve(options.out) : project.outputDir;
  const local = new LocalStore(storeRoot);
  const remote = options.store ? s3Parts(options.store) : undefined;
  const store: ObjectStore = remote?.store ?? local;
  // A scratch folder (--out) is not where the project's base URL serves from: its links stay file URLs.
  const signer: LinkSigner = remote?.signer ?? new LocalLinkSigner(local, options.out ? undefined : project.spec.links?.baseUrl);
  const clock: Clock = options.now ? fixedClock(parseTimeArg('--now', options.now)) : systemClock;
  const workDir = join(storeRoot, LOCAL_WORK_FOLDER);
  const progress = options.progress;
  const engine = options.engine ?? 'duckdb';
  if (engine !== 'duckdb' && engine !== 'athena') throw new UsageError(`--engine ${engine} is not an engine; give duckdb (the default) or athena`);
  if (engine === 'athena' && !remote) throw new UsageError('--engine athena stages and exports in S3: give --store s3://bucket/prefix too');
  const athena = engine === 'athena' ? athenaSettings(options) : undefined;
  const consumers = new Map<string, Notifier[]>();
  const consumersFor = (feed: FeedDefinition, partner: string | null): Notifier[] => {
    const key = `${feed.spec.name}\n${partner ?? ''}`;
    if (!consumers.has(key)) consumers.set(key, consumerNotifiers(feed, partner, { storeRoot, console: options.console }));
    return consumers.get(key)!;
  };
  const openEngine = async (scope?: { readonly stagingPrefix: string }): Promise<QueryEngine> => {
    if (athena) return athenaEngine(athena, store, remote!.url);
    return DuckDbEngine.open({ store, sources: project.sources, workDir, prefix: project.spec.prefix, stagingPrefix: scope?.stagingPrefix });
  };
  const deps: RunDeps = {
    store,
    clock,
    prefix: project.spec.prefix,
    feeds: feedCatalog(project.feeds),
    signer,
    consumers: consumersFor,
    // The CLI prints a failed run itself; the outbox keeps the event for whoever watches it.
    operators: operatorNotifiers({ storeRoot, console: false }),
    lease: { ttlSeconds: DEFAULT_LEASE_TTL_SECONDS, host: hostname(), pid: process.pid, pidNamespace: pidNamespaceId(), isAlive: processAlive },
    newAttemptId: () => randomBytes(6).toString('hex'),
    openEngine,
    push: (ref, feed, lease) => pushLocally(ref, feed, { store, clock, projectDir: project.dir, lease }),
    removeLeftovers: () => removeDeadLeftovers(workDir, store instanceof LocalStore ? store : undefined, processAlive),
    onStep: progress
      ? (step, plan) => (step === 'stage' && progress.run(`${plan.feed}${plan.partner ? ` [${plan.partner}]` : ''} ${plan.slot.id}`), progress.step(step))
      : undefined,
    onProgress: progress ? (p) => progress.written(p.format, p.rows, p.bytes) : undefined,
  };
  /** Where a key is, for people: a path in the local folder, or an s3:// URL. */
  const locate = (key: string): string => (remote ? `${remote.url.replace(/\/+$/, '')}/${key}` : local.localPath(key));
  return { store, local, storeRoot, clock, deps, consumersFor, locate, remote: remote !== undefined };
}

/**
 * Pushes a drop to its destinations with the embedded engine computing diffs and reading rows.
 * Loaded on demand: the adapters bring the AWS SDK and ssh2, which only feeds with destinations need.
 */
async function pushLocally(ref: DeliveredRef, feed: FeedDefinition, o: { store: ObjectStore; clock: Clock; projectDir: string; lease?: AttemptLease }) {
  const { pushDrop } = require('../core/destinations/push-drop') as typeof import('../core/destinations/push-drop');
  const { destinationFactory } = require('../adapters/destinations/destination-factory') as typeof import('../adapters/destinations/destination-factory');
  const { DuckDbDestinationEngine } = require('../adapters/duckdb/duckdb-destination') as typeof import('../adapters/duckdb/duckdb-destination');
  const engine = await DuckDbDestinationEngine.open({ store: o.store });
  try {
    return await pushDrop(
      ref,
      feed,
      {
        store: o.store,
        clock: o.clock,
        destinationBuilder: (f) => destinationFactory({ feedFile: f.file, projectDir: o.projectDir }),
        rows: engine,
        changes: engine,
      },
      o.lease,
    );
  } finally {
    await engine.close();
  }
}

type Aws = typeof import('../aws');

function aws(): Aws {
  // Loaded on demand: local runs never pay for the AWS SDK.
  return require('../aws') as Aws;
}

function s3Parts(url: string) {
  if (!/^s3:\/\/[^/]+/.test(url)) throw new UsageError(`--store ${url} is not an S3 location; give s3://bucket or s3://bucket/prefix`);
  const { S3Store, S3LinkSigner } = aws();
  return { url, store: S3Store.fromUrl(url), signer: S3LinkSigner.fromUrl(url) };
}

function athenaSettings(options: LocalContextOptions): { workGroup: string; stagingDatabase: string } {
  const workGroup = options.workgroup ?? process.env.DROPKIT_ATHENA_WORKGROUP;
  const stagingDatabase = options.stagingDatabase ?? process.env.DROPKIT_ATHENA_STAGING_DATABASE;
  if (!workGroup || !stagingDatabase) {
    throw new UsageError(
      '--engine athena needs --workgroup NAME and --staging-database NAME (or DROPKIT_ATHENA_WORKGROUP and DROPKIT_ATHENA_STAGING_DATABASE): the stack outputs name both',
    );
  }
  return { workGroup, stagingDatabase };
}

function athenaEngine({ workGroup, stagingDatabase }: { workGroup: string; stagingDatabase: string }, store: ObjectStore, url: string): QueryEngine {
  const [, bucket, prefix = ''] = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url)!;
  return new (aws().AthenaEngine)({ workGroup, stagingDatabase, store, bucket, prefix: prefix.replace(/\/+$/, '') });
}
