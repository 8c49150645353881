import { TransferClient } from '@aws-sdk/client-transfer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { HttpApiDestination } from '../lib/adapters/http/http-api-destination';
import { partnerS3DestinationOf } from '../lib/adapters/s3/s3-destination';
import { TransferConnectorDestination } from '../lib/adapters/transfer/transfer-destination';
import { athenaRowsScratch } from '../lib/core/layout';
import { parseDurationSeconds } from '../lib/core/duration';
import type { DestinationBuilder } from '../lib/core/destinations/plans';
import { pushDrop } from '../lib/core/destinations/push-drop';
import type { ChangeEngine } from '../lib/core/destinations/change-engine';
import type { DestinationSpec } from '../lib/core/feed/feed-schema';
import type { StepDeps } from '../lib/core/steps/step-deps';
import type { Destination, RowReader } from '../lib/core/ports/destination';
import { waitTimeLeftMs } from './invocation';
import { tracer } from './observability';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { AthenaChangeEngine } from '../lib/adapters/athena/athena-change-engine';
import { s3ClientConfigFromEnv, s3ClientDefaults, S3Store } from '../lib/adapters/s3/s3-store';
import { feedCatalog } from '../lib/core/steps/step-deps';
import { systemClock } from '../lib/core/ports/clock';
import { loadBundledFeeds, readRuntimeConfig, type LambdaDeps, type RuntimeConfig } from './runtime';
import { WebhookSecrets } from './webhook-secrets';

/** A destination the deployed pipeline cannot serve: the synth refuses it first (lib/cdk/destinations.ts), this is the guard behind that. */
export class UndeployableDestinationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UndeployableDestinationError';
  }
}

export interface DeployedDestinationOptions {
  /** Our drops bucket: connectors send the drop from it. */
  readonly bucket: string;
  readonly secrets: WebhookSecrets;
  readonly transfer: TransferClient;
  /** What a wait may still take (the Lambda's remaining time). */
  readonly timeLeftMs?: () => number;
}

const ms = (d: string) => parseDurationSeconds(d)! * 1000;

/**
 * The deployed pipeline's destinations: a partner's bucket with this function's role or theirs
 * (STS AssumeRole with their external id), an HTTP API with its token from Secrets Manager, SFTP
 * through a Transfer Family connector. A local folder, or SFTP without a connector, has no deployed form.
 */
export function deployedDestinationBuilder(o: DeployedDestinationOptions): DestinationBuilder {
  return (spec: DestinationSpec): Destination => {
    switch (spec.type) {
      case 's3':
        // Path-style where an S3-compatible endpoint is set (tests); AWS's own endpoints otherwise.
        return partnerS3DestinationOf(spec, s3ClientConfigFromEnv());
      case 'sftp':
        if (!spec.connectorId)
          throw new UndeployableDestinationError(`destination ${spec.name}: SFTP on AWS needs connectorId (a Transfer Family SFTP connector)`);
        return new TransferConnectorDestination(spec.name, {
          connectorId: spec.connectorId,
          root: spec.path,
          bucket: o.bucket,
          client: o.transfer,
          timeLeftMs: o.timeLeftMs,
        });
      case 'api': {
        const secret = spec.secret;
        if (!secret) throw new UndeployableDestinationError(`destination ${spec.name}: an API on AWS needs secret: { name } (its token in Secrets Manager)`);
        return secretApiDestination(
          spec.name,
          spec.url,
          () => o.secrets.get(secret.name),
          (token) =>
            new HttpApiDestination({
              name: spec.name,
              url: spec.url,
              token,
              mapping: spec.mapping,
              primaryKey: spec.primaryKey,
              batchSize: spec.batchSize,
              requestsPerSecond: spec.requestsPerSecond,
              maxAttempts: spec.maxAttempts,
              timeoutMs: ms(spec.timeout),
            }),
        );
      }
      case 'local':
        throw new UndeployableDestinationError(`destination ${spec.name}: a local folder has no deployed form`);
    }
  };
}

/** An API destination whose token is read (from Secrets Manager) when it delivers, not when it is built. */
export function secretApiDestination(name: string, url: string, token: () => Promise<string>, build: (token: string) => Destination): Destination {
  const origin = new URL(url);
  return {
    name,
    target: `api ${origin.origin}${origin.pathname}`,
    async deliver(input, progress) {
      await build(await token()).deliver(input, progress);
    },
  };
}

/**
 * The push of the deployed pipeline: pushDrop with the deployed destinations, diffs computed by
 * Athena and rows read through it (`changes`, `rows`: absent, a diff sync or an API destination
 * fails its record with the reason).
 */
export function deployedPush(
  deps: Pick<LambdaDeps, 'store' | 'clock' | 'config'>,
  engines: { readonly changes?: ChangeEngine; readonly rows?: RowReader } = {},
): NonNullable<StepDeps['push']> {
  const builder = deployedDestinationBuilder({
    bucket: deps.config.bucket,
    secrets: new WebhookSecrets(tracer.captureAWSv3Client(new SecretsManagerClient({}))),
    transfer: tracer.captureAWSv3Client(new TransferClient({})),
    timeLeftMs: () => waitTimeLeftMs() ?? Number.POSITIVE_INFINITY,
  });
  return (ref, feed, lease) => pushDrop(ref, feed, { store: deps.store, clock: deps.clock, destinationBuilder: () => builder, ...engines }, lease);
}

/**
 * The push function's deps from the environment: only what a push uses (the drops bucket, the
 * feeds, the destinations' clients), so its bundle carries no notifier SDK.
 */
export function buildPushDeps(
  env: NodeJS.ProcessEnv = process.env,
): Pick<StepDeps, 'store' | 'clock' | 'feeds' | 'push' | 'lease'> & { config: RuntimeConfig } {
  const config = readRuntimeConfig(env);
  const store = new S3Store({ bucket: config.bucket, kmsKeyId: config.kmsKeyArn, client: tracer.captureAWSv3Client(new S3Client(s3ClientDefaults())) });
  const deps = { config, store, clock: systemClock, feeds: feedCatalog(loadBundledFeeds(env)), lease: { ttlSeconds: config.leaseTtlSeconds } };
  // Athena computes diffs and reads rows for API destinations: neither passes through the function's memory whole.
  const changes = new AthenaChangeEngine({
    workGroup: config.workgroup,
    database: config.stagingDatabase,
    store,
    bucket: config.bucket,
    client: tracer.captureAWSv3Client(new AthenaClient({})),
    scratchPrefix: athenaRowsScratch(config.prefix ?? ''),
  });
  return { ...deps, push: deployedPush(deps, { changes, rows: changes }) };
}
