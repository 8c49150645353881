import { dirname, join } from 'node:path';
import { ArnFormat, Aspects, Aws, Duration, NestedStack, Names, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deliveryPartners } from '../core/feed/feed-definition';
import { acknowledge, AcknowledgeKnownWildcards } from './acknowledgements';
import { DeployConfigError } from './errors';
import { keyScopes, KeyScopes } from './key-scopes';
import { LAMBDA_ENTRIES, LambdaRole } from './lambda-entries';
import { pipelineDefinition } from './pipeline-definition';
import { assertWebhooksDeployable, grantWebhookSecrets, webhookSecretNames } from './webhook-secrets';
import type { FileExchangeProps } from './file-exchange-props';
import { Grants, parseS3Location, publishTo, putEvents } from './grants';
import { lambdaEntry, packageRoots, writeFeedsFile } from './lambda-packaging';
import { linkBrokerApi } from './link-broker-api';
import { monitoring } from './monitoring';

export * from './file-exchange-props';
export { parseS3Location } from './grants';

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
    if (feeds.length > MAX_FEEDS)
      throw new DeployConfigError(
        `FileExchange: ${feeds.length} feeds is more than one bucket's lifecycle rules allow (${MAX_FEEDS}); split the project into several projects/stacks`,
      );
    assertWebhooksDeployable(feeds);
    const partnerIds = [...new Set(feeds.flatMap((f) => f.spec.partners.map((p) => p.id)))].sort();
    const estimate =
      100 +
      PARTNER_RESOURCES * partnerIds.length +
      (feeds.length <= (props.inlineFeedLimit ?? 40) ? 3 * feeds.length : Math.ceil(feeds.length / (props.feedsPerNestedStack ?? 120)));
    if (estimate > MAIN_STACK_BUDGET) {
      throw new DeployConfigError(
        `FileExchange: about ${estimate} resources for ${feeds.length} feeds and ${partnerIds.length} partners, over CloudFormation's 500 per stack with margin; ` +
          'lower inlineFeedLimit so feeds go to nested stacks, or split the partners over several projects',
      );
    }

    const prefix = props.keyPrefix ?? 'drops';
    const scopes = keyScopes(prefix, RESULTS_PREFIX);
    const under = prefix ? `${prefix}/` : '';
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
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
          expiredObjectDeleteMarker: true,
        },
        { id: 'expire-staging', prefix: `${under}_staging/`, expiration: props.stagingExpiration ?? Duration.days(3) },
        { id: 'expire-athena-results', prefix: RESULTS_PREFIX, expiration: Duration.days(7) },
        // The runs apply each feed's retention themselves (keeping the drop latest.json points at);
        // this catches what no run comes back for, a week later.
        ...feeds
          .filter((f) => f.spec.retention)
          .map((f) => ({ id: `retention-${f.spec.name}`, prefix: `${under}${f.spec.name}/`, expiration: Duration.days(f.spec.retention!.days + 7) })),
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

    // Lambdas.
    const feedsFile = writeFeedsFile(feeds);
    const environment: Record<string, string> = {
      DROPKIT_BUCKET: this.bucket.bucketName,
      DROPKIT_PREFIX: prefix,
      DROPKIT_WORKGROUP: this.workGroup.ref,
      DROPKIT_STAGING_DATABASE: stagingDatabaseName,
      ...(props.sourceDatabase ? { DROPKIT_SOURCE_DATABASE: props.sourceDatabase } : {}),
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
      slaWatch: { memory: 512, timeout: Duration.minutes(5) },
    };
    const fns = {} as Record<LambdaRole, nodejs.NodejsFunction>;
    for (const role of Object.keys(LAMBDA_ENTRIES) as LambdaRole[]) {
      fns[role] = this.lambda(
        role,
        sizes[role],
        role === 'partnerAuthorizer' ? { DROPKIT_PARTNER_SECRET_PREFIX: this.partnerSecretPrefix } : environment,
        feedsFile,
      );
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
    // Athena writes a query's results with the caller's rights: the engine puts them under the attempt's staging.
    grants.read(fns.completeStage, [scopes.results], true);
    grants.readWrite(fns.completeStage, [scopes.leases, scopes.staging]);
    athenaAccess(fns.completeStage, false);
    grants.read(fns.validate, [...scopes.drops, scopes.runs], true);
    grants.readWrite(fns.validate, [scopes.leases, scopes.staging, scopes.results]);
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
    // slaWatch: reads manifests and run records, keeps what it told under _sla/, tells partners and operators.
    grants.read(fns.slaWatch, [...scopes.drops, scopes.runs], true);
    grants.readWrite(fns.slaWatch, [scopes.sla]);
    publishTo(fns.slaWatch, [feedTopicArns, this.opsTopic.topicArn], topicKey);
    putEvents(fns.slaWatch, stack);
    grants.read(fns.linkBroker, [...scopes.drops], true);
    fns.partnerAuthorizer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${this.partnerSecretPrefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    // Webhook secrets: read by the functions that send consumer notices (notify; plan's repair; the SLA watch), only those named.
    grantWebhookSecrets(stack, webhookSecretNames(feeds), [fns.notify, fns.plan, fns.slaWatch]);

    // The state machine.
    // Under /aws/vendedlogs/: Step Functions then needs no CloudWatch Logs resource policy, whose size limit many log groups outgrow.
    const machineLogs = new logs.LogGroup(this, 'PipelineLogs', {
      logGroupName: `/aws/vendedlogs/states/${base}-pipeline`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Pipeline', {
      comment: 'dropkit: one slot of one feed, for each partner it goes to',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(
        pipelineDefinition(new Construct(this, 'States'), {
          functions: fns,
          workGroupName: this.workGroup.ref,
          sourceDatabase: props.sourceDatabase,
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
    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const group = new scheduler.ScheduleGroup(this, 'Schedules', { scheduleGroupName: `${base}-dropkit` });
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'dropkit: EventBridge Scheduler starts the pipeline',
    });
    const topics = new Map<string, sns.Topic>();
    const inline = feeds.length <= (props.inlineFeedLimit ?? 40);
    const perNested = props.feedsPerNestedStack ?? 120;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the scope switches to a nested stack every perNested feeds
    let feedScope: Construct = this;
    feeds.forEach((feed, i) => {
      if (!inline && i % perNested === 0)
        feedScope = new NestedStack(this, `Feeds${i / perNested + 1}`, { description: `dropkit feeds ${i + 1}-${Math.min(i + perNested, feeds.length)}` });
      const name = feed.spec.name;
      const pascal = name.replace(/(^|[_-])([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());
      const topic = new sns.Topic(feedScope, `${pascal}Topic`, {
        topicName: `${feedTopicPrefix}${name}`,
        displayName: `dropkit ${name}`,
        masterKey: topicKey,
        enforceSSL: true,
      });
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

    if (props.slaWatch?.enabled !== false) {
      new scheduler.Schedule(this, 'SlaWatchSchedule', {
        description: 'dropkit SLA watch: alerts on slots past their deadline without a drop',
        schedule: props.slaWatch?.schedule ?? scheduler.ScheduleExpression.rate(Duration.minutes(5)),
        scheduleGroup: group,
        target: new schedulerTargets.LambdaInvoke(props.slaWatch?.handler ?? fns.slaWatch, {
          role: schedulerRole,
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 3,
        }),
      });
    }

    this.api = linkBrokerApi(this, {
      broker: fns.linkBroker,
      authorizer: fns.partnerAuthorizer,
      partnerIds,
      rate: props.partnerRateLimit ?? 5,
      removalPolicy,
      iamPartners: props.iamPartners ?? {},
      partnerSecretPrefix: this.partnerSecretPrefix,
    });
    this.dashboard = monitoring(this, { opsTopic: this.opsTopic, stateMachine: this.stateMachine, deadLetterQueue: this.deadLetterQueue });

    // Rule-pack findings that are by design, each with its reason (cdk-nag AwsSolutions and Serverless).
    Aspects.of(this).add(new AcknowledgeKnownWildcards());
    for (const fn of Object.values(fns)) {
      acknowledge(fn, {
        'Serverless-LambdaDLQ':
          'invoked synchronously only (by Step Functions, whose Retry/Catch handle failures, or by API Gateway); a DLQ serves asynchronous invocations',
      });
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
    const fnRole = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `dropkit ${LAMBDA_ENTRIES[role]} step`,
    });
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
          afterBundling: (_input: string, output: string) => [
            `node -e "require('fs').copyFileSync(process.argv[1], process.argv[2])" "${feedsFile}" "${join(output, 'feeds.json')}"`,
          ],
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
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
          resources: [workGroupArn],
        }),
      );
      // The engine reads staged columns with GetTableMetadata, a data-catalog action.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['athena:GetTableMetadata'],
          resources: [stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' })],
        }),
      );
      // Athena checks the caller may locate the results bucket.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [this.bucket.bucketArn] }));
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions', ...(dropTables ? ['glue:DeleteTable'] : [])],
          resources: [catalog, database, tables],
        }),
      );
    };
  }

  /** The state machine runs the stage query itself: the sources (read), staging (write) and results. */
  private grantStageQuery(role: iam.IRole, stack: Stack, stagingDatabaseName: string, scopes: KeyScopes, props: FileExchangeProps): void {
    const policy = new iam.Policy(this, 'StageQueryPolicy', { roles: [role] });
    const glueArn = (resource: string, name?: string) =>
      stack.formatArn({ service: 'glue', resource, resourceName: name, arnFormat: name ? ArnFormat.SLASH_RESOURCE_NAME : ArnFormat.NO_RESOURCE_NAME });
    policy.addStatements(
      new iam.PolicyStatement({
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution'],
        resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroup.ref })],
      }),
      new iam.PolicyStatement({
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:GetPartitions'],
        resources: [glueArn('catalog'), glueArn('database', stagingDatabaseName), glueArn('table', `${stagingDatabaseName}/*`)],
      }),
      new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [this.bucket.bucketArn] }),
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [scopes.staging, scopes.results] } },
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [this.bucket.arnForObjects(scopes.staging), this.bucket.arnForObjects(scopes.results)],
      }),
    );
    const sources = props.sources ?? {};
    const glueTables = sources.glueTables ?? [];
    if (glueTables.length) {
      const resources = [
        glueArn('catalog'),
        ...glueTables.flatMap((t) => [glueArn('database', t.database), ...(t.tables ?? ['*']).map((name) => glueArn('table', `${t.database}/${name}`))]),
      ];
      policy.addStatements(
        new iam.PolicyStatement({
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'],
          resources,
        }),
      );
    }
    const locations = (sources.s3Locations ?? []).map(parseS3Location);
    if (locations.length) {
      policy.addStatements(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: locations.map((l) => `arn:${Aws.PARTITION}:s3:::${l.bucket}/${l.prefix}*`) }),
        ...locations.map(
          (l) =>
            new iam.PolicyStatement({
              actions: ['s3:ListBucket', 's3:GetBucketLocation'],
              resources: [`arn:${Aws.PARTITION}:s3:::${l.bucket}`],
              conditions: l.prefix ? { StringLike: { 's3:prefix': [`${l.prefix}*`] } } : undefined,
            }),
        ),
      );
    }
    for (const key of sources.kmsKeys ?? []) key.grantDecrypt(role);
    if (props.encryptionKey) props.encryptionKey.grant(role, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*');
  }
}
