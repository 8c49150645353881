import { Annotations, ArnFormat, Aspects, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as athena from 'aws-cdk-lib/aws-athena';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  DEFAULT_FEEDS_PER_NESTED_STACK,
  DEFAULT_INLINE_FEED_LIMIT,
  DEFAULT_KEY_PREFIX,
  DEPLOYED_LEASE_TTL_SECONDS,
  ENV,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
} from '../core/deploy-contract';
import { AcknowledgeKnownWildcards } from './acknowledgements';
import { CheckovSkips } from './checkov-skips';
import { DropsBucket } from './drops-bucket';
import { DeployConfigError } from './errors';
import { FeedSchedules } from './feed-schedules';
import type { FileExchangeProps } from './file-exchange-props';
import { Grants } from './grants';
import { keyScopes } from './key-scopes';
import { ATHENA_RESULTS_PREFIX } from '../core/layout';
import type { LambdaRole } from './lambda-entries';
import { writeFeedsFile } from './lambda-packaging';
import { LinkBroker } from './link-broker';
import { Monitoring } from './monitoring';
import { Pipeline } from './pipeline';
import { QueryResources } from './query-resources';
import { validateProps } from './validate-props';
import { assertDestinationsDeployable } from './destinations';
import { deployedFeed } from '../core/destinations/deployable';
import { assertWebhooksDeployable, grantWebhookSecrets, webhookSecretNames } from './webhook-secrets';

export * from './file-exchange-props';
export { parseS3Location } from './grants';

/** S3 allows 1000 lifecycle rules per bucket; a few are the construct's own. */
const MAX_FEEDS = 990;
/** Per partner: key secret, API key, usage plan, plan key. The rest is ~100 fixed + 3 per inline feed (topic, topic policy, schedule). */
const PARTNER_RESOURCES = 4;
const MAIN_STACK_BUDGET = 450;

/**
 * dropkit on AWS for one project, composed of named parts: the drops bucket (`DropsBucket`),
 * Athena's workgroup and staging database (`Query`), the state machine and its step functions
 * (`Pipeline`), a topic and schedule per feed (`FeedSchedules`), the partners' API (`LinkBroker`),
 * and the SLA watch, alarms and dashboard (`Monitoring`).
 *
 * @example
 * const project = loadProject('feeds-project');
 * new FileExchange(this, 'Exchange', { feeds: project.feeds, keyPrefix: project.spec.prefix, sources: project.aws?.sources });
 */
export class FileExchange extends Construct {
  readonly bucket: s3.IBucket;
  /** The access-log bucket, when the construct made the drops bucket. */
  readonly logBucket?: s3.Bucket;
  readonly stateMachine: sfn.StateMachine;
  readonly opsTopic: sns.Topic;
  readonly feedTopics: ReadonlyMap<string, sns.Topic>;
  readonly workGroup: athena.CfnWorkGroup;
  readonly stagingDatabase: glue.CfnDatabase;
  readonly api: apigw.RestApi;
  readonly deadLetterQueue: sqs.Queue;
  /** The functions it made; `slaWatch` only when dropkit's watch runs. */
  readonly functions: Readonly<Record<Exclude<LambdaRole, 'slaWatch'>, nodejs.NodejsFunction>> & { readonly slaWatch?: nodejs.NodejsFunction };
  readonly dashboard: cloudwatch.Dashboard;
  /** Secrets Manager name prefix of the partners' key hashes (`<prefix><partner-id>`). */
  readonly partnerSecretPrefix: string;

  constructor(scope: Construct, id: string, props: FileExchangeProps) {
    super(scope, id);
    validateProps(props);
    // Access logs are delivered under a bucket policy, not ACLs, so both buckets can enforce object ownership.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const stack = Stack.of(this);
    // Local-folder destinations are for development: left out of what is deployed, each named in a warning.
    const feeds = props.feeds.map((f) => {
      const { feed, leftOut } = deployedFeed(f);
      for (const path of leftOut)
        Annotations.of(this).addWarningV2(
          'dropkit:local-destination',
          `${f.file} ${path}: a local folder destination is pushed by local runs only; the deployed pipeline leaves it out (add an s3, sftp with connectorId, or api destination for the partner's copy on AWS)`,
        );
      return feed;
    });
    const partnerIds = [...new Set(feeds.flatMap((f) => f.spec.partners.map((p) => p.id)))].sort();
    checkSize(props, partnerIds.length);
    assertWebhooksDeployable(feeds);
    assertDestinationsDeployable(feeds);

    const prefix = props.keyPrefix ?? DEFAULT_KEY_PREFIX;
    const scopes = keyScopes(prefix);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const base = Names.uniqueResourceName(this, { maxLength: 40, separator: '-' }).toLowerCase();
    this.partnerSecretPrefix = `dropkit/${base}/partners/`;
    const feedTopicPrefix = `${base}-feed-`;
    const feedTopicArns = stack.formatArn({ service: 'sns', resource: `${feedTopicPrefix}*`, arnFormat: ArnFormat.NO_RESOURCE_NAME });

    const drops = new DropsBucket(this, 'DropsBucket', {
      feeds,
      under: prefix ? `${prefix}/` : '',
      resultsPrefix: ATHENA_RESULTS_PREFIX,
      encryptionKey: props.encryptionKey,
      existingBucket: props.existingBucket,
      removalPolicy,
      stagingExpiration: props.stagingExpiration ?? Duration.days(3),
      noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
    });
    this.bucket = drops.bucket;
    this.logBucket = drops.logBucket;
    const query = new QueryResources(this, 'Query', {
      bucket: this.bucket,
      base,
      resultsPrefix: ATHENA_RESULTS_PREFIX,
      encryptionKey: props.encryptionKey,
      bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
      enforceWorkGroupConfiguration: props.enforceWorkGroupConfiguration ?? false,
    });
    this.workGroup = query.workGroup;
    this.stagingDatabase = query.stagingDatabase;

    // Notices: the topics' key lets alarms and EventBridge publish.
    const topicKey = new kms.Key(this, 'TopicKey', {
      description: 'dropkit: SNS topics (alarms and EventBridge may publish)',
      enableKeyRotation: true,
      removalPolicy,
    });
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      topicKey.addToResourcePolicy(
        new iam.PolicyStatement({ principals: [new iam.ServicePrincipal(service)], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'] }),
      );
    }
    this.opsTopic = new sns.Topic(this, 'OpsTopic', { displayName: 'dropkit operations', masterKey: topicKey, enforceSSL: true });

    const feedsFile = writeFeedsFile(feeds);
    const environment: Record<string, string> = {
      [ENV.bucket]: this.bucket.bucketName,
      [ENV.prefix]: prefix,
      [ENV.workgroup]: this.workGroup.ref,
      [ENV.stagingDatabase]: query.stagingDatabaseName,
      ...(props.sourceDatabase ? { [ENV.sourceDatabase]: props.sourceDatabase } : {}),
      ...(props.encryptionKey ? { [ENV.kmsKeyArn]: props.encryptionKey.keyArn } : {}),
      [ENV.opsTopicArn]: this.opsTopic.topicArn,
      [ENV.feedTopicArnPrefix]: stack.formatArn({ service: 'sns', resource: feedTopicPrefix, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
      [ENV.leaseTtlSeconds]: String(props.leaseTtl?.toSeconds() ?? DEPLOYED_LEASE_TTL_SECONDS),
      POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const grants = new Grants(this.bucket, scopes, props.encryptionKey);

    const pipeline = new Pipeline(this, 'Pipeline', {
      environment,
      feedsFile,
      feeds,
      grants,
      scopes,
      query,
      feedTopicArns,
      opsTopic: this.opsTopic,
      topicKey,
      sourceDatabase: props.sourceDatabase,
      sources: props.sources ?? {},
      encryptionKey: props.encryptionKey,
      pollInterval: props.queryPollInterval ?? Duration.seconds(10),
      partnerConcurrency: props.partnerConcurrency ?? 4,
      base,
    });
    this.stateMachine = pipeline.stateMachine;

    const schedules = new FeedSchedules(this, 'FeedSchedules', {
      feeds,
      stateMachine: this.stateMachine,
      base,
      feedTopicPrefix,
      topicKey,
      inlineFeedLimit: props.inlineFeedLimit ?? DEFAULT_INLINE_FEED_LIMIT,
      feedsPerNestedStack: props.feedsPerNestedStack ?? DEFAULT_FEEDS_PER_NESTED_STACK,
    });
    this.feedTopics = schedules.topics;
    this.deadLetterQueue = schedules.deadLetterQueue;

    const broker = new LinkBroker(this, 'LinkBroker', {
      environment,
      feedsFile,
      grants,
      scopes,
      partnerIds,
      partnerSecretPrefix: this.partnerSecretPrefix,
      rate: props.partnerRateLimit ?? 5,
      removalPolicy,
      iamPartners: props.iamPartners ?? {},
      cloudWatchRole: props.apiGatewayCloudWatchRole ?? true,
      base,
      stateMachine: this.stateMachine,
    });
    this.api = broker.api;

    const monitoring = new Monitoring(this, 'Monitoring', {
      opsTopic: this.opsTopic,
      stateMachine: this.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
      slaWatch: props.slaWatch ?? {},
      environment,
      feedsFile,
      grants,
      scopes,
      feedTopicArns,
      topicKey,
      scheduleGroup: schedules.group,
      schedulerRole: schedules.schedulerRole,
    });
    this.dashboard = monitoring.dashboard;
    this.functions = {
      ...pipeline.functions,
      linkBroker: broker.broker,
      partnerAuthorizer: broker.authorizer,
      ...(monitoring.slaWatchFunction ? { slaWatch: monitoring.slaWatchFunction } : {}),
    };

    // Webhook secrets: read by the functions that send consumer notices (notify; plan's repair; the SLA watch), only those named.
    grantWebhookSecrets(stack, webhookSecretNames(feeds), [
      pipeline.functions.notify,
      pipeline.functions.plan,
      ...(monitoring.slaWatchFunction ? [monitoring.slaWatchFunction] : []),
    ]);

    // Rule-pack findings that are by design, each with its reason (cdk-nag AwsSolutions and Serverless).
    Aspects.of(this).add(
      new AcknowledgeKnownWildcards({ stagingDatabase: query.stagingDatabaseName, feedTopicPrefix, partnerSecretPrefix: this.partnerSecretPrefix }),
    );
    Aspects.of(this).add(new CheckovSkips());
  }
}

/** Refuses, with the fix, a project that would not fit one bucket's lifecycle rules or one stack's resources. */
function checkSize(props: FileExchangeProps, partners: number): void {
  const feeds = props.feeds.length;
  if (feeds === 0) throw new DeployConfigError('FileExchange: the project has no feeds; add a feed file before deploying');
  if (feeds > MAX_FEEDS)
    throw new DeployConfigError(
      `FileExchange: ${feeds} feeds is more than one bucket's lifecycle rules allow (${MAX_FEEDS}); split the project into several projects/stacks`,
    );
  const estimate =
    100 +
    PARTNER_RESOURCES * partners +
    (feeds <= (props.inlineFeedLimit ?? DEFAULT_INLINE_FEED_LIMIT)
      ? 3 * feeds
      : Math.ceil(feeds / (props.feedsPerNestedStack ?? DEFAULT_FEEDS_PER_NESTED_STACK)));
  if (estimate > MAIN_STACK_BUDGET) {
    throw new DeployConfigError(
      `FileExchange: about ${estimate} resources for ${feeds} feeds and ${partners} partners, over CloudFormation's 500 per stack with margin; ` +
        'lower inlineFeedLimit so feeds go to nested stacks, or split the partners over several projects',
    );
  }
}
