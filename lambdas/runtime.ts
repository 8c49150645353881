import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { AthenaEngine } from '../lib/adapters/athena/athena-engine';
import { s3ClientDefaults, S3Store } from '../lib/adapters/s3/s3-store';
import { S3LinkSigner } from '../lib/adapters/s3/s3-link-signer';
import { SnsNotifier } from '../lib/adapters/sns/sns-notifier';
import { EventBridgeNotifier } from '../lib/adapters/eventbridge/eventbridge-notifier';
import { ConfigError, ConfigProblem, DropkitError } from '../lib/core/errors';
import type { FeedDefinition } from '../lib/core/feed/feed-definition';
import { feedSchema } from '../lib/core/feed/feed-schema';
import { feedCatalog, StepDeps } from '../lib/core/steps/step-deps';
import { DEPLOYED_LEASE_TTL_SECONDS, ENV, RUNTIME_DEFAULTS } from '../lib/core/deploy-contract';
import { systemClock } from '../lib/core/ports/clock';
import type { Notifier } from '../lib/core/ports/notifier';
import type { QueryEngine } from '../lib/core/ports/query-engine';
import { zodProblems } from '../lib/project/zod-problems';
import { feedSemanticsSchema } from '../lib/semantic/semantic-schema';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NoticeChannels, routeConsumers } from '../lib/core/graph/notice-routing';
import { once } from './handler-kit';
import { waitTimeLeftMs } from './invocation';
import { SecretWebhookNotifier, WebhookSecrets } from './webhook-secrets';
import { tracer } from './observability';
import { AWS_RETRY } from '../lib/adapters/aws-retry';

/** The file the CDK construct writes beside each bundled handler: the project's validated feeds. */
export const BUNDLED_FEEDS_FILE = 'feeds.json';

/** What the CDK construct puts into each function's environment. */
export interface RuntimeConfig {
  readonly bucket: string;
  /** The project's key prefix in the bucket (the layout's `prefix`). */
  readonly prefix: string;
  readonly workgroup: string;
  readonly stagingDatabase: string;
  /** Database for unqualified table names in the feed SQL (Athena's `default` when unset). */
  readonly sourceDatabase: string | undefined;
  readonly opsTopicArn: string | undefined;
  /**
   * ARN of every feed's SNS topic less the feed name (topics are named `<prefix><feed>`): one
   * variable whatever the number of feeds, where a map would outgrow Lambda's 4 KB environment.
   */
  readonly feedTopicArnPrefix: string | undefined;
  readonly eventBusName: string | undefined;
  readonly leaseTtlSeconds: number;
  readonly partnerSecretPrefix: string | undefined;
  /** The drops bucket's customer-managed KMS key, when it has one: every object dropkit writes names it. */
  readonly kmsKeyArn: string | undefined;
}

export class RuntimeConfigError extends DropkitError {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeConfigError';
  }
}

export { ENV };

/** Reads the environment the construct sets; names the variable that is missing or wrong. */
export function readRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const need = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '')
      throw new RuntimeConfigError(`environment variable ${name} is not set; the FileExchange construct sets it on every function`);
    return v;
  };
  const feedTopicArnPrefix = env[ENV.feedTopicArnPrefix] || undefined;
  if (feedTopicArnPrefix && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]*$/.test(feedTopicArnPrefix)) {
    throw new RuntimeConfigError(
      `${ENV.feedTopicArnPrefix} must be an SNS topic ARN without the feed name, like arn:aws:sns:eu-west-1:123456789012:shop-feed- (got ${feedTopicArnPrefix})`,
    );
  }
  const ttl = Number(env[ENV.leaseTtlSeconds] ?? DEPLOYED_LEASE_TTL_SECONDS);
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new RuntimeConfigError(`${ENV.leaseTtlSeconds} must be a positive whole number of seconds (got ${env[ENV.leaseTtlSeconds]})`);
  return {
    bucket: need(ENV.bucket),
    prefix: env[ENV.prefix] ?? '',
    workgroup: env[ENV.workgroup] ?? RUNTIME_DEFAULTS.workgroup,
    stagingDatabase: env[ENV.stagingDatabase] ?? RUNTIME_DEFAULTS.stagingDatabase,
    sourceDatabase: env[ENV.sourceDatabase] || undefined,
    opsTopicArn: env[ENV.opsTopicArn] || undefined,
    feedTopicArnPrefix,
    eventBusName: env[ENV.eventBusName] || undefined,
    leaseTtlSeconds: ttl,
    partnerSecretPrefix: env[ENV.partnerSecretPrefix] || undefined,
    kmsKeyArn: env[ENV.kmsKeyArn] || undefined,
  };
}

const bundledFeed = z.strictObject({
  file: z.string(),
  spec: z.unknown(),
  sql: z.strictObject({ duckdb: z.string(), athena: z.string() }),
  sqlFiles: z.strictObject({ duckdb: z.string(), athena: z.string() }),
  semantics: feedSemanticsSchema.optional(),
  eventBridgeCron: z.string(),
});
const bundledFeeds = z.strictObject({ feeds: z.array(bundledFeed) });

/**
 * The project's feeds as packaged at deploy time, validated again with the feed schema: a bundle
 * edited by hand or built by another version fails at cold start with every problem named.
 */
export function parseBundledFeeds(text: string, file = BUNDLED_FEEDS_FILE): FeedDefinition[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ file, path: '', message: `not valid JSON: ${(e as Error).message}`, fix: 'deploy again: the construct writes this file' }]);
  }
  const outer = bundledFeeds.safeParse(raw);
  if (!outer.success) throw new ConfigError(zodProblems(file, raw, outer.error.issues));
  const problems: ConfigProblem[] = [];
  const feeds: FeedDefinition[] = [];
  outer.data.feeds.forEach((f, i) => {
    const spec = feedSchema.safeParse(f.spec);
    if (!spec.success) problems.push(...zodProblems(`${file} feeds[${i}] (${f.file})`, f.spec, spec.error.issues));
    else feeds.push({ ...f, spec: spec.data });
  });
  if (problems.length) throw new ConfigError(problems);
  return feeds;
}

/** Reads the bundled feeds from beside the handler (or the file `ENV.feedsFile` names). */
export function loadBundledFeeds(env: NodeJS.ProcessEnv = process.env): FeedDefinition[] {
  const path = env[ENV.feedsFile] ?? join(__dirname, BUNDLED_FEEDS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RuntimeConfigError(`cannot read the bundled feeds at ${path}: ${(e as Error).message}`);
  }
  return parseBundledFeeds(text, path);
}

/** Everything the steps need on AWS, plus what only the edges use. */
export interface LambdaDeps extends StepDeps {
  readonly prefix: string;
  readonly config: RuntimeConfig;
  readonly definitions: readonly FeedDefinition[];
}

/** The Athena engine over the drops bucket: queries in the deployment's workgroup, staging tables in its staging database. */
export function openAthenaEngine(config: RuntimeConfig, clients: { readonly athena: AthenaClient; readonly store: S3Store }): QueryEngine {
  return new AthenaEngine({
    workGroup: config.workgroup,
    stagingDatabase: config.stagingDatabase,
    database: config.sourceDatabase,
    store: clients.store,
    bucket: config.bucket,
    kmsKey: config.kmsKeyArn,
    client: clients.athena,
    // A query still running when the function's time is nearly up is stopped and the step retried (StepTimeBudgetError).
    timeLeftMs: () => waitTimeLeftMs() ?? Number.POSITIVE_INFINITY,
  });
}

/** Builds the deps from the environment and the bundled feeds; the SDK clients traced by X-Ray. */
export function buildLambdaDeps(env: NodeJS.ProcessEnv = process.env): LambdaDeps {
  const config = readRuntimeConfig(env);
  const definitions = loadBundledFeeds(env);
  // The store's defaults: bounded waits, and path-style where an S3-compatible endpoint is set.
  const s3 = tracer.captureAWSv3Client(new S3Client(s3ClientDefaults()));
  const sns = tracer.captureAWSv3Client(new SNSClient({ ...AWS_RETRY }));
  const events = tracer.captureAWSv3Client(new EventBridgeClient({ ...AWS_RETRY }));
  const athena = tracer.captureAWSv3Client(new AthenaClient({ ...AWS_RETRY }));
  const secrets = new WebhookSecrets(tracer.captureAWSv3Client(new SecretsManagerClient({ ...AWS_RETRY })));
  const store = new S3Store({ bucket: config.bucket, kmsKeyId: config.kmsKeyArn, client: s3 });
  const signer = new S3LinkSigner({ bucket: config.bucket, clock: systemClock });
  const eventBus = new EventBridgeNotifier({ client: events, eventBusName: config.eventBusName });
  const feedNotifiers = new Map<string, Notifier>();
  const topicNotifier = (arn: string) => {
    let n = feedNotifiers.get(arn);
    if (!n) feedNotifiers.set(arn, (n = new SnsNotifier({ topicArn: arn, client: sns })));
    return n;
  };
  return {
    config,
    definitions,
    prefix: config.prefix,
    store,
    clock: systemClock,
    feeds: feedCatalog(definitions),
    engine: openAthenaEngine(config, { athena, store }),
    signer,
    consumers: (feed, partner) => routeConsumers(feed, partner, awsChannels(config, { topicNotifier, eventBus, secrets })),
    operators: config.opsTopicArn ? [topicNotifier(config.opsTopicArn), eventBus] : [eventBus],
    lease: { ttlSeconds: config.leaseTtlSeconds },
    newAttemptId: () => randomBytes(6).toString('hex'),
  };
}

/**
 * The AWS edge's channels for the one routing of notices: every notice to the feed's topic and the
 * event bus; an `sns` target's own topic; a webhook with its secret from Secrets Manager.
 */
export function awsChannels(
  config: Pick<RuntimeConfig, 'feedTopicArnPrefix'>,
  c: { topicNotifier: (arn: string) => Notifier; eventBus: Notifier; secrets: WebhookSecrets },
): NoticeChannels {
  const webhooks = new Map<string, Notifier>();
  return {
    always: (feed) => [...(config.feedTopicArnPrefix ? [c.topicNotifier(config.feedTopicArnPrefix + feed.spec.name)] : []), c.eventBus],
    target: (t) => {
      if (t.type === 'sns' && t.topicArn) return c.topicNotifier(t.topicArn);
      if (t.type === 'webhook' && t.secret) {
        const key = JSON.stringify(t);
        if (!webhooks.has(key)) webhooks.set(key, new SecretWebhookNotifier(t, c.secrets));
        return webhooks.get(key);
      }
      return undefined;
    },
  };
}

/** The deps of this container, built on first use. */
// Pure: a bundle that uses only the helpers above (the push function) leaves the notifier SDKs out.
export const runtime = /* @__PURE__ */ once(async () => buildLambdaDeps());
