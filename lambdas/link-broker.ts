import { dropPrefixOfManifest, latestKey, manifestKey, SLOT_ID } from '../lib/core/layout';
import { parseDurationSeconds } from '../lib/core/duration';
import type { FeedDefinition } from '../lib/core/feed/feed-definition';
import { deliveredRevisions } from '../lib/core/steps/plan';
import type { LambdaContextLike } from './invocation';
import { logger } from './observability';
import { ENV } from '../lib/core/deploy-contract';
import { runtime, LambdaDeps } from './runtime';
import { parseStoreJson, readStoreJson } from '../lib/core/store-json';
import { latestPointerSchema, manifestSchema } from '../lib/core/manifest-schema';

/** The parts of an API Gateway REST (proxy) event the broker reads. */
export interface ApiEvent {
  readonly httpMethod: string;
  readonly resource?: string;
  readonly pathParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly requestContext?: {
    readonly requestId?: string;
    readonly authorizer?: Readonly<Record<string, unknown>> | null;
    /** Set by API Gateway on IAM-authorized (SigV4) routes. */
    readonly identity?: { readonly accountId?: string | null; readonly userArn?: string | null } | null;
  };
}

export interface ApiResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

type BrokerDeps = Pick<LambdaDeps, 'store' | 'signer' | 'feeds' | 'prefix'> & {
  /** AWS account id → partner id, for partners calling with SigV4 (the `/iam/…` routes). */
  readonly iamPartners?: Readonly<Record<string, string>>;
};

/**
 * Fresh links to a drop, for the calling partner only. The partner is who the authorizer says
 * (its context `partnerId`) or, on the IAM routes, whose AWS account signed the request; never a
 * parameter of the request. Routes (also under `/iam` for SigV4 callers):
 *   GET /feeds/{feed}/latest                the drop `latest.json` points at
 *   GET /feeds/{feed}/slots/{slot}[?run=ID] the newest revision of a slot, or the given run of it
 */
export function makeLinkBrokerHandler(deps: () => Promise<BrokerDeps>) {
  return async (event: ApiEvent, context?: LambdaContextLike): Promise<ApiResult> => {
    logger.resetKeys();
    if (context) logger.addContext(context as Parameters<typeof logger.addContext>[0]);
    try {
      return await answer(event, await deps());
    } catch (error) {
      logger.error('link broker failed', error as Error);
      return reply(500, { error: 'internal error; the request id names it in the logs', requestId: event.requestContext?.requestId ?? null });
    }
  };
}

async function answer(event: ApiEvent, deps: BrokerDeps): Promise<ApiResult> {
  const account = event.requestContext?.identity?.accountId;
  const partner = event.requestContext?.authorizer?.partnerId ?? (event.resource?.startsWith('/iam/') && account ? deps.iamPartners?.[account] : undefined);
  if (typeof partner !== 'string' || !partner) return reply(403, { error: 'no partner identity: call with your partner key' });
  if (event.httpMethod !== 'GET') return reply(405, { error: `${event.httpMethod} is not served; use GET` });
  const feedName = event.pathParameters?.feed ?? '';
  logger.appendKeys({ feed: feedName, partner });
  let feed: FeedDefinition;
  try {
    feed = deps.feeds.get(feedName);
  } catch {
    return reply(404, { error: `no feed named "${feedName}"` });
  }
  if (!feed.spec.partners.some((p) => p.id === partner)) return reply(403, { error: `partner ${partner} does not receive feed ${feedName}` });
  const c = { prefix: deps.prefix, feed: feed.spec.name, partner: feed.spec.delivery === 'per-partner' ? partner : null };

  let key: string | undefined;
  const slot = event.pathParameters?.slot;
  if (slot === undefined) {
    const latest = await readStoreJson(deps.store, latestKey(c), latestPointerSchema);
    if (!latest) return reply(404, { error: `feed ${feedName} has no delivered drop yet` });
    key = manifestKey(c, latest.slot, latest.runId);
  } else {
    if (!SLOT_ID.test(slot)) return reply(400, { error: `slot must be a slot id like 20240115T060000Z (got ${JSON.stringify(slot)})` });
    const revisions = await deliveredRevisions(deps.store, c, slot);
    const run = event.queryStringParameters?.run;
    const chosen = run ? revisions.find((r) => r.runId === run) : revisions[revisions.length - 1];
    if (!chosen)
      return reply(404, { error: run ? `no delivered run ${run} in slot ${slot} of ${feedName}` : `slot ${slot} of ${feedName} has no delivered drop` });
    key = chosen.key;
  }
  const got = await deps.store.get(key);
  if (!got) return reply(404, { error: `the drop ${key} is gone (expired by retention)` });
  const manifest = parseStoreJson(key, got.body, manifestSchema);
  const seconds = parseDurationSeconds(feed.spec.links.expiresIn)!;
  const dropPrefix = dropPrefixOfManifest(key);
  const files = [];
  for (const f of manifest.files)
    files.push({ path: f.path, format: f.format, rows: f.rows, bytes: f.bytes, sha256: f.sha256, link: await deps.signer.sign(dropPrefix + f.path, seconds) });
  return reply(200, {
    feed: manifest.feed,
    partner,
    runId: manifest.runId,
    revision: manifest.revision,
    slot: manifest.slot.id,
    manifest: { link: await deps.signer.sign(key, seconds) },
    files,
  });
}

function reply(statusCode: number, body: unknown): ApiResult {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

export const handler = makeLinkBrokerHandler(async () => ({
  ...(await runtime()),
  iamPartners: JSON.parse(process.env[ENV.iamPartners] ?? '{}') as Record<string, string>,
}));
