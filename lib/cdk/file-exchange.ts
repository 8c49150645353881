import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ArnFormat, Aspects, Aws, Duration, NestedStack, Names, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FeedDefinition } from '../core/feed/feed-definition';
import { deliveryPartners } from '../core/feed/feed-definition';
import { acknowledge, AcknowledgeKnownWildcards } from './acknowledgements';
import { DeployConfigError } from './errors';
import { keyScopes, KeyScopes } from './key-scopes';
import { LAMBDA_ENTRIES, LambdaRole } from './lambda-entries';
import { pipelineDefinition } from './pipeline-definition';

/** Where the feeds' SQL reads from: the engineers' existing tables. Roles get read access to these and nothing broader. */
export interface SourceAccess {
  /**
   * Glue databases and tables the feed SQL reads.
   * @default none
   */
  readonly glueTables?: readonly { readonly database: string; readonly tables?: readonly string[] }[];
  /**
   * S3 locations of those tables' data, as `s3://bucket/prefix/`.
   * @default none
   */
  readonly s3Locations?: readonly string[];
  /**
   * KMS keys the source data is encrypted with.
   * @default none
   */
  readonly kmsKeys?: readonly kms.IKey[];
}

/** The hook for the SLA watch (its logic comes with the SLA work): a function run on a schedule. */
export interface SlaWatchProps {
  /** The function that raises an alert for every slot past its deadline without a delivered drop. */
  readonly handler: lambda.IFunction;
  /**
   * When it runs.
   * @default every 5 minutes
   */
  readonly schedule?: scheduler.ScheduleExpression;
}

export interface FileExchangeProps {
  /** The project's feeds, validated (`loadProject(dir).feeds`). */
  readonly feeds: readonly FeedDefinition[];
  /**
   * The project's key prefix in the drops bucket (the layout's `prefix`).
   * @default 'drops'
   */
  readonly keyPrefix?: string;
  /**
   * A customer-managed key for the drops bucket, Athena results and staging.
   * @default S3-managed encryption (SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The source tables and data the feeds read.
   * @default none: the feeds can read nothing but what the roles get elsewhere
   */
  readonly sources?: SourceAccess;
  /**
   * Per-query cost guard of the Athena workgroup, in bytes scanned.
   * @default 10 GiB
   */
  readonly bytesScannedCutoffPerQuery?: number;
  /**
   * Whether the workgroup overrides the queries' own result location and encryption. Athena fails
   * a CTAS that names an `external_location` in a workgroup that enforces its result location, and
   * the Athena engine stages each run with `external_location` under the run attempt's staging
   * prefix (so a run's staging is one prefix to scope, expire and delete); so it is off unless the
   * engine stages without it. The per-query bytes-scanned cutoff, results location (for queries
   * that name none) and engine version apply either way.
   * @default false
   */
  readonly enforceWorkGroupConfiguration?: boolean;
  /**
   * How many partners of a per-partner feed run at once.
   * @default 4
   */
  readonly partnerConcurrency?: number;
  /**
   * Wait between two looks at a running stage query.
   * @default 10 seconds
   */
  readonly queryPollInterval?: Duration;
  /**
   * Staging left behind by a dead run expires after this.
   * @default 3 days
   */
  readonly stagingExpiration?: Duration;
  /**
   * Old versions of overwritten or deleted objects expire after this.
   * @default 30 days
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * The slot lease's time to live: a run that dies frees its slot after this.
   * @default 2 hours
   */
  readonly leaseTtl?: Duration;
  /**
   * What happens to the buckets when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Requests per second per partner at the link broker (and twice that as burst).
   * @default 5
   */
  readonly partnerRateLimit?: number;
  /**
   * Partners with AWS accounts, by partner id → 12-digit account id: they call the link broker's
   * `/iam/…` routes signed with SigV4 (IAM auth), and the broker knows them by their account.
   * @default none: every partner uses its key
   */
  readonly iamPartners?: Readonly<Record<string, string>>;
  /**
   * The SLA watch: a missed slot raises an alert even if its run never started.
   * @default no SLA watch schedule (late deliveries still alarm)
   */
  readonly slaWatch?: SlaWatchProps;
  /**
   * Per-feed resources (schedule, topic) go into nested stacks of this many feeds once the project
   * has more than `inlineFeedLimit` feeds, to stay within CloudFormation's 500 resources per stack.
   * @default 120
   */
  readonly feedsPerNestedStack?: number;
  /**
   * Up to this many feeds, per-feed resources stay in the construct's own stack.
   * @default 40
   */
  readonly inlineFeedLimit?: number;
}

/** Athena results live beside the project's prefix, outside it. */
const RESULTS_PREFIX = '_athena-results/';
/** S3 allows 1000 lifecycle rules per bucket; a few are the construct's own. */
const MAX_FEEDS = 990;
/** Per partner: key secret, API key, usage plan, plan key. The rest is ~100 fixed + 3 per inline feed (topic, topic policy, schedule). */
const PARTNER_RESOURCES = 4;
const MAIN_STACK_BUDGET = 450;

/**
 * dropkit on AWS for one project: the drops bucket, Athena workgroup and staging database, one
 * state machine running every feed's slots through the step Lambdas, a schedule per feed, SNS
 * topics, the partners' link broker, alarms and a dashboard.
 */
export class FileExchange extends Construct {
  readonly bucket: s3.Bucket;
  readonly logBucket: s3.Bucket;
  readonly stateMachine: sfn.StateMachine;
  readonly opsTopic: sns.Topic;
  readonly feedTopics: ReadonlyMap<string, sns.Topic>;
  readonly workGroup: athena.CfnWorkGroup;
  readonly stagingDatabase: glue.CfnDatabase;
  readonly api: apigw.RestApi;
  readonly deadLetterQueue: sqs.Queue;
  readonly functions: Readonly<Record<LambdaRole, nodejs.NodejsFunction>>;
  readonly dashboard: cloudwatch.Dashboard;
  /** Secrets Manager name prefix of the partners' key hashes (`<prefix><partner-id>`). */
  readonly partnerSecretPrefix: string;

  constructor(scope: Construct, id: string, props: FileExchangeProps) {
    super(scope, id);
    // Access logs are delivered under a bucket policy, not ACLs, so both buckets can enforce object ownership.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const stack = Stack.of(this);
    const feeds = props.feeds;
    if (feeds.length === 0) throw new DeployConfigError('FileExchange: the project has no feeds; add a feed file before deploying');
    if (feeds.length > MAX_FEEDS) throw new DeployConfigError(`FileExchange: ${feeds.length} feeds is more than one bucket's lifecycle rules allow (${MAX_FEEDS}); split the project into several projects/stacks`);
    const partnerIds = [...new Set(feeds.flatMap((f) => f.spec.partners.map((p) => p.id)))].sort();
    const estimate = 100 + PARTNER_RESOURCES * partnerIds.length + (feeds.length <= (props.inlineFeedLimit ?? 40) ? 3 * feeds.length : Math.ceil(feeds.length / (props.feedsPerNestedStack ?? 120)));
    if (estimate > MAIN_STACK_BUDGET) {
      throw new DeployConfigError(
        `FileExchange: about ${estimate} resources for ${feeds.length} feeds and ${partnerIds.length} partners, over CloudFormation's 500 per stack with margin; ` +
          'lower inlineFeedLimit so feeds go to nested stacks, or split the partners over several projects',
      );
    }

    const prefix = props.keyPrefix ?? 'drops';
    const scopes = keyScopes(prefix, RESULTS_PREFIX);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const base = Names.uniqueResourceName(this, { maxLength: 40, separator: '-' }).toLowerCase();
    this.partnerSecretPrefix = `dropkit/${base}/partners/`;
    const feedTopicPrefix = `${base}-feed-`;

    // Buckets.
    this.logBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Drops', {
      versioned: true,
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: props.encryptionKey ? true : undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'drops-bucket/',
      removalPolicy,
      lifecycleRules: [
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30), expiredObjectDeleteMarker: true },
        { id: 'expire-staging', prefix: `${prefix}/_staging/`, expiration: props.stagingExpiration ?? Duration.days(3) },
        { id: 'expire-athena-results', prefix: RESULTS_PREFIX, expiration: Duration.days(7) },
        // The runs apply each feed's retention themselves (keeping the drop latest.json points at);
        // this catches what no run comes back for, a week later.
        ...feeds
          .filter((f) => f.spec.retention)
          .map((f) => ({ id: `retention-${f.spec.name}`, prefix: `${prefix}/${f.spec.name}/`, expiration: Duration.days(f.spec.retention!.days + 7) })),
      ],
    });

    // Athena and Glue.
    const stagingDatabaseName = `${base.replace(/[^a-z0-9]/g, '_')}_staging`;
    this.stagingDatabase = new glue.CfnDatabase(this, 'StagingDatabase', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: stagingDatabaseName, description: 'dropkit: staged results of feed queries (one table per run attempt, dropped after the run)' },
    });
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `${base}-dropkit`,
      description: 'dropkit feed queries',
      recursiveDeleteOption: true,
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: props.enforceWorkGroupConfiguration ?? false,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.bucket.bucketName}/${RESULTS_PREFIX}`,
          encryptionConfiguration: props.encryptionKey ? { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn } : { encryptionOption: 'SSE_S3' },
        },
      },
    });

    // Notices.
    const topicKey = new kms.Key(this, 'TopicKey', { description: 'dropkit: SNS topics (alarms and EventBridge may publish)', enableKeyRotation: true, removalPolicy });
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      topicKey.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.ServicePrincipal(service)], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'] }));
    }
    this.opsTopic = new sns.Topic(this, 'OpsTopic', { displayName: 'dropkit operations', masterKey: topicKey, enforceSSL: true });

    // Lambdas.
    const feedsFile = writeFeedsFile(feeds);
    const environment: Record<string, string> = {
      DROPKIT_BUCKET: this.bucket.bucketName,
      DROPKIT_PREFIX: prefix,
      DROPKIT_WORKGROUP: this.workGroup.ref,
      DROPKIT_STAGING_DATABASE: stagingDatabaseName,
      DROPKIT_OPS_TOPIC_ARN: this.opsTopic.topicArn,
      DROPKIT_FEED_TOPIC_ARN_PREFIX: stack.formatArn({ service: 'sns', resource: feedTopicPrefix, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
      DROPKIT_LEASE_TTL_SECONDS: String((props.leaseTtl ?? Duration.hours(2)).toSeconds()),
      POWERTOOLS_SERVICE_NAME: 'dropkit',
      POWERTOOLS_METRICS_NAMESPACE: 'dropkit',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const sizes: Record<LambdaRole, { memory: number; timeout: Duration }> = {
      plan: { memory: 512, timeout: Duration.minutes(5) },
      compileStage: { memory: 256, timeout: Duration.minutes(1) },
      completeStage: { memory: 512, timeout: Duration.minutes(5) },
      validate: { memory: 1024, timeout: Duration.minutes(15) },
      render: { memory: 2048, timeout: Duration.minutes(15) },
      publish: { memory: 1024, timeout: Duration.minutes(15) },
      notify: { memory: 512, timeout: Duration.minutes(5) },
      failRun: { memory: 512, timeout: Duration.minutes(5) },
      linkBroker: { memory: 512, timeout: Duration.seconds(29) },
      partnerAuthorizer: { memory: 256, timeout: Duration.seconds(10) },
    };
    const fns = {} as Record<LambdaRole, nodejs.NodejsFunction>;
    for (const role of Object.keys(LAMBDA_ENTRIES) as LambdaRole[]) {
      fns[role] = this.lambda(role, sizes[role], role === 'partnerAuthorizer' ? { DROPKIT_PARTNER_SECRET_PREFIX: this.partnerSecretPrefix } : environment, feedsFile);
    }
    this.functions = fns;

    // Feed topics (named, so a function finds a feed's topic from its name alone).
    const feedTopicArns = stack.formatArn({ service: 'sns', resource: `${feedTopicPrefix}*`, arnFormat: ArnFormat.NO_RESOURCE_NAME });

    // Permissions, per function, to the key scopes it touches.
    const grants = new Grants(this.bucket, scopes, props.encryptionKey);
    const athenaAccess = this.athenaAccess(stack, stagingDatabaseName);
    // plan: takes the lease, records the run, clears a dead attempt's staging and files; repairs a delivered run's pointer.
    grants.readWrite(fns.plan, [scopes.latest, scopes.leases, scopes.runs], true);
    grants.readDelete(fns.plan, [scopes.dropFiles, scopes.staging]);
    publishTo(fns.plan, [feedTopicArns], topicKey);
    putEvents(fns.plan, stack);
    // compile-stage only writes SQL text: no data access.
    grants.read(fns.completeStage, [scopes.staging, scopes.results], true);
    grants.readWrite(fns.completeStage, [scopes.leases]);
    athenaAccess(fns.completeStage, false);
    grants.read(fns.validate, [...scopes.drops, scopes.runs, scopes.staging], true);
    grants.readWrite(fns.validate, [scopes.leases, scopes.results]);
    athenaAccess(fns.validate, false);
    grants.readWrite(fns.render, [scopes.staging, scopes.results], true);
    athenaAccess(fns.render, false);
    grants.readWrite(fns.publish, [...scopes.drops, scopes.leases, scopes.runs, scopes.staging, scopes.results], true);
    athenaAccess(fns.publish, true);
    grants.read(fns.notify, [...scopes.drops], true);
    grants.readWrite(fns.notify, [scopes.runs, scopes.leases]);
    publishTo(fns.notify, [feedTopicArns], topicKey);
    putEvents(fns.notify, stack);
    grants.readWrite(fns.failRun, [...scopes.drops, scopes.leases, scopes.runs, scopes.staging, scopes.results], true);
    athenaAccess(fns.failRun, true);
    publishTo(fns.failRun, [this.opsTopic.topicArn], topicKey);
    putEvents(fns.failRun, stack);
    grants.read(fns.linkBroker, [...scopes.drops], true);
    fns.partnerAuthorizer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${this.partnerSecretPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }),
    );

    // The state machine.
    const machineLogs = new logs.LogGroup(this, 'PipelineLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'Pipeline', {
      comment: 'dropkit: one slot of one feed, for each partner it goes to',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(
        pipelineDefinition(new Construct(this, 'States'), {
          functions: fns,
          workGroupName: this.workGroup.ref,
          opsTopic: this.opsTopic,
          pollInterval: props.queryPollInterval ?? Duration.seconds(10),
          partnerConcurrency: props.partnerConcurrency ?? 4,
        }),
      ),
      timeout: Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: machineLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    this.grantStageQuery(this.stateMachine.role, stack, stagingDatabaseName, scopes, props);
    this.opsTopic.grantPublish(this.stateMachine);

    // Schedules: one per feed, starting the state machine with the slot and its partners.
    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetters', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    const group = new scheduler.ScheduleGroup(this, 'Schedules', { scheduleGroupName: `${base}-dropkit` });
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'dropkit: EventBridge Scheduler starts the pipeline',
    });
    const topics = new Map<string, sns.Topic>();
    const inline = feeds.length <= (props.inlineFeedLimit ?? 40);
    const perNested = props.feedsPerNestedStack ?? 120;
    let feedScope: Construct = this;
    feeds.forEach((feed, i) => {
      if (!inline && i % perNested === 0) feedScope = new NestedStack(this, `Feeds${i / perNested + 1}`, { description: `dropkit feeds ${i + 1}-${Math.min(i + perNested, feeds.length)}` });
      const name = feed.spec.name;
      const pascal = name.replace(/(^|[_-])([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());
      const topic = new sns.Topic(feedScope, `${pascal}Topic`, { topicName: `${feedTopicPrefix}${name}`, displayName: `dropkit ${name}`, masterKey: topicKey, enforceSSL: true });
      topics.set(name, topic);
      new scheduler.Schedule(feedScope, `${pascal}Schedule`, {
        description: `dropkit ${name}: ${feed.spec.schedule.cron} in ${feed.spec.schedule.timezone}`,
        schedule: scheduler.ScheduleExpression.expression(feed.eventBridgeCron, TimeZone.of(feed.spec.schedule.timezone)),
        scheduleGroup: group,
        timeWindow: scheduler.TimeWindow.off(),
        target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
          role: schedulerRole,
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 10,
          maxEventAge: Duration.hours(6),
          input: scheduler.ScheduleTargetInput.fromObject({ feed: name, slot: scheduler.ContextAttribute.scheduledTime, partners: deliveryPartners(feed) }),
        }),
      });
    });
    this.feedTopics = topics;

    if (props.slaWatch) {
      new scheduler.Schedule(this, 'SlaWatchSchedule', {
        description: 'dropkit SLA watch: alerts on slots past their deadline without a drop',
        schedule: props.slaWatch.schedule ?? scheduler.ScheduleExpression.rate(Duration.minutes(5)),
        scheduleGroup: group,
        target: new schedulerTargets.LambdaInvoke(props.slaWatch.handler, { role: schedulerRole, deadLetterQueue: this.deadLetterQueue, retryAttempts: 3 }),
      });
    }

    this.api = this.linkBroker(fns, partnerIds, props.partnerRateLimit ?? 5, removalPolicy, props.iamPartners ?? {});
    this.dashboard = this.monitoring();

    // Rule-pack findings that are by design, each with its reason (cdk-nag AwsSolutions and Serverless).
    Aspects.of(this).add(new AcknowledgeKnownWildcards());
    for (const fn of Object.values(fns)) {
      acknowledge(fn, { 'Serverless-LambdaDLQ': 'invoked synchronously only (by Step Functions, whose Retry/Catch handle failures, or by API Gateway); a DLQ serves asynchronous invocations' });
    }
    acknowledge(this.deadLetterQueue, {
      'AwsSolutions-SQS3': 'this queue is the dead-letter queue of the schedules',
      'Serverless-SQSRedrivePolicy': 'this queue is the dead-letter queue of the schedules; nothing consumes it to redrive from',
    });
  }

  /** A step function: Node.js 22 on arm64, bundled by esbuild with the project's feeds beside it, its own role and log group. */
  private lambda(role: LambdaRole, size: { memory: number; timeout: Duration }, environment: Record<string, string>, feedsFile: string): nodejs.NodejsFunction {
    const id = role[0].toUpperCase() + role.slice(1) + 'Function';
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    const fnRole = new iam.Role(this, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `dropkit ${LAMBDA_ENTRIES[role]} step` });
    logGroup.grantWrite(fnRole);
    const roots = packageRoots();
    return new nodejs.NodejsFunction(this, id, {
      entry: lambdaEntry(roots.dropkit, LAMBDA_ENTRIES[role]),
      handler: 'handler',
      projectRoot: dirname(roots.lockFile),
      depsLockFilePath: roots.lockFile,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: size.memory,
      timeout: size.timeout,
      role: fnRole,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment,
      description: `dropkit: ${LAMBDA_ENTRIES[role]}`,
      bundling: {
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        minify: true,
        sourceMap: true,
        // The SDK goes into the bundle: the adapters rely on its recent checksum and conditional-write support.
        bundleAwsSDK: true,
        externalModules: [],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, output: string) => [`node -e "require('fs').copyFileSync(process.argv[1], process.argv[2])" "${feedsFile}" "${join(output, 'feeds.json')}"`],
        },
      },
    });
  }

  /** Athena and the staging database, for the functions that run check/export queries over staged rows. */
  private athenaAccess(stack: Stack, stagingDatabaseName: string) {
    const workGroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroup.ref });
    const catalog = stack.formatArn({ service: 'glue', resource: 'catalog', arnFormat: ArnFormat.NO_RESOURCE_NAME });
    const database = stack.formatArn({ service: 'glue', resource: 'database', resourceName: stagingDatabaseName });
    const tables = stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${stagingDatabaseName}/*` });
    return (fn: lambda.IFunction, dropTables: boolean) => {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'], resources: [workGroupArn] }));
      // The engine reads staged columns with GetTableMetadata, a data-catalog action.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['athena:GetTableMetadata'], resources: [stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' })] }));
      // Athena checks the caller may locate the results bucket.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [this.bucket.bucketArn] }));
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions', ...(dropTables ? ['glue:DeleteTable'] : [])], resources: [catalog, database, tables] }));
    };
  }

  /** The state machine runs the stage query itself: the sources (read), staging (write) and results. */
  private grantStageQuery(role: iam.IRole, stack: Stack, stagingDatabaseName: string, scopes: KeyScopes, props: FileExchangeProps): void {
    const policy = new iam.Policy(this, 'StageQueryPolicy', { roles: [role] });
    const glueArn = (resource: string, name?: string) => stack.formatArn({ service: 'glue', resource, resourceName: name, arnFormat: name ? ArnFormat.SLASH_RESOURCE_NAME : ArnFormat.NO_RESOURCE_NAME });
    policy.addStatements(
      new iam.PolicyStatement({ actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution'], resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroup.ref })] }),
      new iam.PolicyStatement({ actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:GetPartitions'], resources: [glueArn('catalog'), glueArn('database', stagingDatabaseName), glueArn('table', `${stagingDatabaseName}/*`)] }),
      new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [this.bucket.bucketArn] }),
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [scopes.staging, scopes.results] } } }),
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], resources: [this.bucket.arnForObjects(scopes.staging), this.bucket.arnForObjects(scopes.results)] }),
    );
    const sources = props.sources ?? {};
    const glueTables = sources.glueTables ?? [];
    if (glueTables.length) {
      const resources = [glueArn('catalog'), ...glueTables.flatMap((t) => [glueArn('database', t.database), ...(t.tables ?? ['*']).map((name) => glueArn('table', `${t.database}/${name}`))])];
      policy.addStatements(new iam.PolicyStatement({ actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'], resources }));
    }
    const locations = (sources.s3Locations ?? []).map(parseS3Location);
    if (locations.length) {
      policy.addStatements(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: locations.map((l) => `arn:${Aws.PARTITION}:s3:::${l.bucket}/${l.prefix}*`) }),
        ...locations.map((l) => new iam.PolicyStatement({ actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [`arn:${Aws.PARTITION}:s3:::${l.bucket}`], conditions: l.prefix ? { StringLike: { 's3:prefix': [`${l.prefix}*`] } } : undefined })),
      );
    }
    for (const key of sources.kmsKeys ?? []) key.grantDecrypt(role);
    if (props.encryptionKey) props.encryptionKey.grant(role, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*');
  }

  /** API Gateway (REST) in front of the link broker: a Lambda authorizer per partner key, a usage plan per partner for throttling, access logs. */
  private linkBroker(fns: Record<LambdaRole, nodejs.NodejsFunction>, partnerIds: readonly string[], rate: number, removalPolicy: RemovalPolicy, iamPartners: Readonly<Record<string, string>>): apigw.RestApi {
    const iamAccounts = Object.entries(iamPartners);
    for (const [id, account] of iamAccounts) {
      if (!partnerIds.includes(id)) throw new DeployConfigError(`FileExchange: iamPartners.${id}: no feed has a partner "${id}" (partners: ${partnerIds.join(', ')})`);
      if (!/^\d{12}$/.test(account)) throw new DeployConfigError(`FileExchange: iamPartners.${id}: "${account}" is not a 12-digit AWS account id`);
    }
    const accessLogs = new logs.LogGroup(this, 'LinkBrokerAccessLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
    const api = new apigw.RestApi(this, 'LinkBroker', {
      description: 'dropkit link broker: fresh download links to a partner\'s own drops',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: false,
      // SigV4 callers are let in by account (IAM auth); key callers by the authorizer (an implicit deny here does not stop them).
      policy: iamAccounts.length
        ? new iam.PolicyDocument({
            statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], principals: iamAccounts.map(([, a]) => new iam.AccountPrincipal(a)), resources: ['execute-api:/*/GET/iam/*'] })],
          })
        : undefined,
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: Math.max(rate * Math.max(partnerIds.length, 1), 10),
        throttlingBurstLimit: Math.max(rate * 2 * Math.max(partnerIds.length, 1), 20),
      },
    });
    const authorizer = new apigw.TokenAuthorizer(this, 'PartnerAuthorizer', {
      handler: fns.partnerAuthorizer,
      identitySource: apigw.IdentitySource.header('Authorization'),
      resultsCacheTtl: Duration.minutes(5),
    });
    const validator = api.addRequestValidator('Params', { validateRequestParameters: true, validateRequestBody: true });
    const integration = new apigw.LambdaIntegration(fns.linkBroker);
    const method = (resource: apigw.IResource, params: Record<string, boolean>) =>
      resource.addMethod('GET', integration, { authorizer, authorizationType: apigw.AuthorizationType.CUSTOM, apiKeyRequired: true, requestValidator: validator, requestParameters: params });
    const feed = api.root.addResource('feeds').addResource('{feed}');
    const methods = [
      method(feed.addResource('latest'), { 'method.request.path.feed': true }),
      method(feed.addResource('slots').addResource('{slot}'), { 'method.request.path.feed': true, 'method.request.path.slot': true, 'method.request.querystring.run': false }),
    ];
    if (iamAccounts.length) {
      const iamMethod = (resource: apigw.IResource, params: Record<string, boolean>) =>
        resource.addMethod('GET', integration, { authorizationType: apigw.AuthorizationType.IAM, apiKeyRequired: false, requestValidator: validator, requestParameters: params });
      const iamFeed = api.root.addResource('iam').addResource('feeds').addResource('{feed}');
      methods.push(
        iamMethod(iamFeed.addResource('latest'), { 'method.request.path.feed': true }),
        iamMethod(iamFeed.addResource('slots').addResource('{slot}'), { 'method.request.path.feed': true, 'method.request.path.slot': true, 'method.request.querystring.run': false }),
      );
      fns.linkBroker.addEnvironment('DROPKIT_IAM_PARTNERS', JSON.stringify(Object.fromEntries(iamAccounts.map(([id, a]) => [a, id]))));
    }
    for (const m of methods) acknowledge(m, { 'AwsSolutions-COG4': 'partners are machines authenticated by a Lambda authorizer on per-partner keys (stored hashed) or by IAM (SigV4); there are no Cognito users' });
    acknowledge(api.deploymentStage, {
      'AwsSolutions-APIG3': 'the API serves authenticated partners only, throttled per partner by usage plans; add a WAF web ACL in the stack if your policy requires one',
      'AwsSolutions-APIG6': "access logs are on; execution logging needs the account-wide API Gateway CloudWatch role, which one stack should not own",
    });

    for (const id of partnerIds) {
      const secret = new secretsmanager.Secret(this, `PartnerKey-${id}`, {
        secretName: `${this.partnerSecretPrefix}${id}`,
        description: `dropkit: SHA-256 of partner ${id}'s link broker key, as {"sha256":"<hex>"}; put a new value to rotate (no deploy)`,
        // A placeholder without "sha256": the partner is refused until an operator stores a hash.
        generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'unset', excludePunctuation: true },
        removalPolicy,
      });
      acknowledge(secret, { 'AwsSolutions-SMG4': "the secret holds the hash of a key the partner keeps: rotating it means handing the partner a new key, then putting its hash here (no deploy); nothing can rotate it alone" });
      const key = api.addApiKey(`ApiKey-${id}`, { description: `dropkit partner ${id}: throttling only (the authorizer authenticates)` });
      const plan = api.addUsagePlan(`UsagePlan-${id}`, { description: `dropkit partner ${id}`, throttle: { rateLimit: rate, burstLimit: rate * 2 }, apiStages: [{ api, stage: api.deploymentStage }] });
      plan.addApiKey(key);
    }
    return api;
  }

  /** Alarms to the ops topic, and a dashboard of deliveries, lateness and failures per feed. */
  private monitoring(): cloudwatch.Dashboard {
    const toOps = new cwActions.SnsAction(this.opsTopic);
    const service = { service: 'dropkit' };
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, id, { metric, threshold: 1, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, alarmDescription: description });
      a.addAlarmAction(toOps);
      return a;
    };
    const sum = (name: string) => new cloudwatch.Metric({ namespace: 'dropkit', metricName: name, dimensionsMap: service, statistic: 'Sum', period: Duration.minutes(5) });
    alarm('FailedRunsAlarm', this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }), 'dropkit: a slot execution failed (a run failed, or the pipeline itself)');
    alarm('ValidationFailedAlarm', sum('ValidationFailed'), 'dropkit: a run stopped on an error-severity check; nothing was published');
    alarm('SlaLateAlarm', sum('SlaLate'), 'dropkit: a drop was delivered after its SLA');
    alarm('SlaMissedAlarm', sum('SlaMissed'), 'dropkit: a slot passed its deadline without a drop (from the SLA watch)');
    alarm('DeadLettersAlarm', this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 'dropkit: a schedule could not start the pipeline (see the dead-letter queue)');

    const perFeed = (label: string, metric: string, stat: string) =>
      new cloudwatch.MathExpression({ expression: `SEARCH('{dropkit,feed,service} MetricName="${metric}"', '${stat}', 3600)`, label, period: Duration.hours(1) });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${Names.uniqueResourceName(this, { maxLength: 60, separator: '-' })}` });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Deliveries per feed', left: [perFeed('', 'Delivered', 'Sum')], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Delivery latency after the slot (s), per feed', left: [perFeed('', 'DeliveryLatencySeconds', 'Maximum')], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Late deliveries per feed', left: [perFeed('', 'SlaLate', 'Sum')], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Failed runs and failed validations per feed', left: [perFeed('', 'RunFailed', 'Sum'), perFeed('', 'ValidationFailed', 'Sum')], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Pipeline executions', left: [this.stateMachine.metricSucceeded(), this.stateMachine.metricFailed(), this.stateMachine.metricStarted()], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Schedules that failed to start', left: [this.deadLetterQueue.metricApproximateNumberOfMessagesVisible()], width: 12 }),
    );
    return dashboard;
  }
}

/** S3 read/write grants on key patterns, with the bucket key when there is one. */
class Grants {
  constructor(private readonly bucket: s3.IBucket, private readonly scopes: KeyScopes, private readonly key?: kms.IKey) {}

  read(fn: lambda.IFunction, patterns: readonly string[], list = false): void {
    if (patterns.length) fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: patterns.map((p) => this.bucket.arnForObjects(p)) }));
    if (list) this.list(fn);
    if (this.key && patterns.length) this.key.grantDecrypt(fn);
  }

  readWrite(fn: lambda.IFunction, patterns: readonly string[], list = false): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], resources: patterns.map((p) => this.bucket.arnForObjects(p)) }),
    );
    if (list) this.list(fn);
    if (this.key) this.key.grant(fn, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*');
  }

  readDelete(fn: lambda.IFunction, patterns: readonly string[]): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject'], resources: patterns.map((p) => this.bucket.arnForObjects(p)) }));
    if (this.key) this.key.grantDecrypt(fn);
  }

  private listed = new Set<lambda.IFunction>();
  private list(fn: lambda.IFunction): void {
    if (this.listed.has(fn)) return;
    this.listed.add(fn);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [this.scopes.listPrefix] } } }));
  }
}

function publishTo(fn: lambda.IFunction, topicArns: readonly string[], key: kms.IKey): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [...topicArns] }));
  key.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey*');
}

function putEvents(fn: lambda.IFunction, stack: Stack): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })] }));
}

export function parseS3Location(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new DeployConfigError(`FileExchange: sources.s3Locations: ${JSON.stringify(url)} is not an S3 location; write s3://bucket/prefix/`);
  const prefix = m[2] ?? '';
  return { bucket: m[1], prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix };
}

/**
 * Where dropkit is (its package.json), and the lock file the bundler keys on: dropkit's own in a
 * checkout, the installing project's when dropkit is a dependency.
 */
function packageRoots(): { dropkit: string; lockFile: string } {
  const up = (from: string, found: (dir: string) => boolean, what: string) => {
    let dir = from;
    while (!found(dir)) {
      const parent = dirname(dir);
      if (parent === dir) throw new DeployConfigError(`FileExchange: cannot find ${what} above ${from}`);
      dir = parent;
    }
    return dir;
  };
  const dropkit = up(__dirname, (d) => existsSync(join(d, 'package.json')) && JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === 'dropkit', "dropkit's package.json");
  const lockDir = up(dropkit, (d) => existsSync(join(d, 'package-lock.json')), 'a package-lock.json');
  return { dropkit, lockFile: join(lockDir, 'package-lock.json') };
}

/** The handler's TypeScript source when it is there (a checkout), else its compiled JavaScript. */
function lambdaEntry(root: string, file: string): string {
  for (const candidate of [join(root, 'lambdas', `${file}.ts`), join(root, 'dist', 'lambdas', `${file}.js`), join(root, 'lambdas', `${file}.js`)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new DeployConfigError(`FileExchange: no Lambda handler lambdas/${file} under ${root}`);
}

/** Writes the feeds the Lambdas take at cold start (validated again there); named by content, so a change makes a new bundle. */
function writeFeedsFile(feeds: readonly FeedDefinition[]): string {
  const body = JSON.stringify({ feeds }) + '\n';
  const dir = join(tmpdir(), 'dropkit-cdk');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `feeds-${createHash('sha256').update(body).digest('hex').slice(0, 16)}.json`);
  writeFileSync(file, body);
  return file;
}
