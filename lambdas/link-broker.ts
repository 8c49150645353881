import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { approvalKey, decideHold, readHold } from '../lib/core/approval/approval';
import { holdView } from '../lib/core/approval/hold-view';
import { UsageError } from '../lib/core/errors';
import { dropPrefixOfManifest, latestKey, manifestKey, SLOT_ID } from '../lib/core/layout';
import type { Clock } from '../lib/core/ports/clock';
import { parseDurationSeconds } from '../lib/core/duration';
import type { FeedDefinition } from '../lib/core/feed/feed-definition';
import { deliveredRevisions } from '../lib/core/steps/run-plan';
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
  readonly body?: string | null;
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
  /** The approver routes: the clock the deadline is judged by, and how a waiting execution is resumed. */
  readonly approvals?: ApprovalDeps;
};

export interface ApprovalDeps {
  readonly clock: Clock;
  /** SendTaskSuccess: the execution waiting in AwaitApproval goes on with `output` as the decided approval. */
  readonly sendTaskSuccess: (taskToken: string, output: string) => Promise<void>;
}

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
  if (event.resource?.startsWith('/approvals/')) return answerApprover(event, deps);
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

/**
 * The approver routes (sign-off, lib/core/approval) on `/approvals/{feed}/slots/{slot}[?partner=ID]`:
 * GET answers the held drop as approvers look at it (status, reasons, deadline, schema, profile,
 * the preview with `pii: true` columns redacted: lib/core/approval/hold-view.ts); POST with
 * `{ "decision": "approve" | "reject", "reason": "…" }` decides. The approver is the caller's own AWS
 * identity (the route takes IAM auth only: no partner key passes): the session name of an assumed
 * role (IAM Identity Center puts the user's e-mail there) or the IAM user name, which must be one of
 * the feed's `approval.approvers`. The decision is recorded with the hold, then the waiting
 * execution resumes with it (SendTaskSuccess): approved → publish, rejected → rolled back.
 */
async function answerApprover(event: ApiEvent, deps: BrokerDeps): Promise<ApiResult> {
  const approver = approverOf(event);
  if (!approver) return reply(403, { error: 'no approver identity: sign the request (SigV4) with your own AWS identity; partner keys cannot decide' });
  if (event.httpMethod !== 'POST' && event.httpMethod !== 'GET')
    return reply(405, { error: `${event.httpMethod} is not served; GET the held drop, or POST a decision` });
  if (!deps.approvals) return reply(501, { error: 'approvals are not enabled on this broker' });
  const feedName = event.pathParameters?.feed ?? '';
  logger.appendKeys({ feed: feedName, approver });
  let feed: FeedDefinition;
  try {
    feed = deps.feeds.get(feedName);
  } catch {
    return reply(404, { error: `no feed named "${feedName}"` });
  }
  if (!feed.spec.approval) return reply(404, { error: `feed ${feedName} asks for no approval` });
  const slot = event.pathParameters?.slot ?? '';
  if (!/^\d{8}T\d{6}Z$/.test(slot)) return reply(400, { error: `slot must be a slot id like 20240115T060000Z (got ${JSON.stringify(slot)})` });
  const partner = event.queryStringParameters?.partner ?? null;
  if (feed.spec.delivery === 'per-partner' ? !feed.spec.partners.some((p) => p.id === partner) : partner !== null)
    return reply(400, {
      error:
        feed.spec.delivery === 'per-partner'
          ? `give ?partner= one of ${feed.spec.partners.map((p) => p.id).join(', ')}`
          : `${feedName} is shared: no ?partner=`,
    });
  const key = approvalKey({ prefix: deps.prefix, feed: feed.spec.name, partner }, slot);
  if (event.httpMethod === 'GET') {
    // Only the feed's approvers see a held drop: its preview and profile are the partner's data before anyone signed it off.
    if (!(feed.spec.approval.approvers as readonly string[]).includes(approver)) return reply(403, { error: `${approver} is not an approver of ${feedName}` });
    const held = await readHold(deps.store, key);
    if (!held) return reply(404, { error: `no drop of ${feedName} slot ${slot} is held for approval` });
    return reply(200, await holdView(held.record, deps));
  }
  let body: { decision?: unknown; reason?: unknown };
  try {
    body = JSON.parse(event.body ?? '{}') as typeof body;
  } catch {
    return reply(400, { error: 'the body must be JSON: {"decision": "approve" | "reject", "reason": "…"}' });
  }
  if (body.decision !== 'approve' && body.decision !== 'reject')
    return reply(400, { error: `decision must be "approve" or "reject" (got ${JSON.stringify(body.decision)})` });
  if (typeof body.reason !== 'string' || !body.reason.trim()) return reply(400, { error: 'reason is required: say why' });
  const held = await readHold(deps.store, key);
  if (!held) return reply(404, { error: `no drop of ${feedName} slot ${slot} is held for approval` });
  if (!(feed.spec.approval.approvers as readonly string[]).includes(approver)) return reply(403, { error: `${approver} is not an approver of ${feedName}` });
  const now = deps.approvals.clock.now();
  if (held.record.status === 'held' && Date.parse(held.record.approval.deadline!) <= now.getTime())
    return reply(409, { error: `the approval timed out at ${held.record.approval.deadline}; the drop is being rolled back` });
  if (!held.record.taskToken) return reply(409, { error: 'the execution has not started waiting yet; try again in a moment' });
  let decided;
  try {
    decided = await decideHold(deps.store, key, { decision: body.decision === 'approve' ? 'approved' : 'rejected', by: approver, reason: body.reason }, now);
  } catch (e) {
    if (e instanceof UsageError) return reply(409, { error: e.message });
    throw e;
  }
  await deps.approvals.sendTaskSuccess(held.record.taskToken, JSON.stringify(decided.approval));
  return reply(200, { feed: feed.spec.name, partner, slot, runId: decided.runId, decision: decided.status, by: approver, at: decided.approval.decision?.at });
}

/** The approver a SigV4 caller is: `…:assumed-role/<role>/<session>` → session, `…:user/<path/>name` → name. */
export function approverOf(event: ApiEvent): string | undefined {
  const arn = event.requestContext?.identity?.userArn ?? '';
  const m = /^arn:aws[a-z-]*:(?:sts::\d{12}:assumed-role\/[^/]+\/|iam::\d{12}:user\/(?:[^/]+\/)*)([^/]+)$/.exec(arn);
  return m?.[1];
}

function reply(statusCode: number, body: unknown): ApiResult {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

/** SendTaskSuccess through the SDK client, built once per container. */
export function sfnTaskResponder(client: SFNClient = new SFNClient({})): ApprovalDeps['sendTaskSuccess'] {
  return async (taskToken, output) => {
    await client.send(new SendTaskSuccessCommand({ taskToken, output }));
  };
}

let responder: ApprovalDeps['sendTaskSuccess'] | undefined;
export const handler = makeLinkBrokerHandler(async () => {
  const deps = await runtime();
  return {
    ...deps,
    iamPartners: JSON.parse(process.env[ENV.iamPartners] ?? '{}') as Record<string, string>,
    approvals: { clock: deps.clock, sendTaskSuccess: (responder ??= sfnTaskResponder()) },
  };
});
