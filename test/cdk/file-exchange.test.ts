import { CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { FileExchange } from '../../lib/cdk/file-exchange';
import { loadProject } from '../../lib/project/load-project';
import { EXAMPLE, exampleStack, testApp } from './cdk-app';
import { grantsOf, lines, services } from './iam';

const B = '<ExchangeDropsBucketDropsD8E12C96.Arn>';
const feeds = loadProject(EXAMPLE, { localSources: false }).feeds;
let template: Template;
beforeAll(() => {
  template = Template.fromStack(exampleStack());
});

describe('the drops bucket', () => {
  it('is versioned, S3-encrypted, private, TLS-only, owner-enforced and logs its access', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^ExchangeDropsBucketAccessLogs') }, LogFilePrefix: 'drops-bucket/' },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^ExchangeDropsBucketDrops') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' }, Action: 's3:*' }),
        ]),
      },
    });
  });

  it('expires incomplete uploads, staging, query results, old versions, and each feed past its retention', () => {
    const [drops] = Object.values(template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } }));
    const rules = drops.Properties.LifecycleConfiguration.Rules;
    const byId = Object.fromEntries(rules.map((r: { Id: string }) => [r.Id, r]));
    expect(byId['abort-incomplete-multipart']).toMatchObject({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' });
    expect(byId['expire-noncurrent-versions']).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } });
    expect(byId['expire-staging']).toMatchObject({ Prefix: 'drops/_staging/', ExpirationInDays: 3 });
    expect(byId['expire-athena-results']).toMatchObject({ Prefix: '_athena-results/', ExpirationInDays: 7 });
    // daily_orders keeps 90 days; the rule is the runs' own retention plus a week.
    expect(byId['retention-daily_orders']).toMatchObject({ Prefix: 'drops/daily_orders/', ExpirationInDays: 97 });
    expect(Object.keys(byId).filter((id) => id.startsWith('retention-'))).toEqual(feeds.filter((f) => f.spec.retention).map((f) => `retention-${f.spec.name}`));
  });

  it('uses a customer KMS key when given one, for the bucket and the Athena results', () => {
    const stack = new Stack(testApp(), 'Kms', { env: { account: '123456789012', region: 'eu-west-1' } });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new FileExchange(stack, 'Exchange', { feeds, encryptionKey: key });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    t.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: { ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS' } } },
    });
    // The render step writes into the bucket, so it may use the key.
    const render = lines(grantsOf(t, 'ExchangePipelineRenderFunctionRole'), 'kms:');
    expect(render).toEqual(
      expect.arrayContaining([expect.stringMatching(/^kms:Decrypt <Key.*\.Arn>$/), expect.stringMatching(/^kms:GenerateDataKey\* <Key.*\.Arn>$/)]),
    );
  });
});

describe('Athena', () => {
  it('has a workgroup on engine 3 with results in the bucket and a bytes-scanned cutoff, not overriding the staging CTAS location', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: {
        // Athena refuses a CTAS with external_location in a workgroup that enforces its result location.
        EnforceWorkGroupConfiguration: false,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^ExchangeDropsBucketDrops') }, '/_athena-results/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
    Template.fromStack(exampleStack(testApp(), { enforceWorkGroupConfiguration: true })).hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: { EnforceWorkGroupConfiguration: true },
    });
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: Match.stringLikeRegexp('^dropkit_exchange_[0-9a-f]+_staging$') } });
  });
});

describe('the state machine', () => {
  it('runs the stage query in the source database when one is named', () => {
    const t = Template.fromStack(exampleStack(testApp(), { sourceDatabase: 'sales' }));
    const [machine] = Object.values(t.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    expect(definition).toContain('\\"QueryExecutionContext\\":{\\"Database\\":\\"sales\\",\\"Catalog\\":\\"AwsDataCatalog\\"}');
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ DROPKIT_SOURCE_DATABASE: 'sales' }) } });
  });

  it('is a Standard workflow with logging of every event and X-Ray tracing', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExchangePipelineLogs'), 'Arn'] } } }],
      },
    });
  });
});

describe('the schedules', () => {
  it('start the state machine once per feed with its cron, time zone, slot and partners, and a dead-letter queue', () => {
    // One per feed, plus the SLA watch's.
    expect(Object.keys(template.findResources('AWS::Scheduler::Schedule'))).toHaveLength(feeds.length + 1);
    for (const feed of feeds) {
      const partners = feed.spec.delivery === 'per-partner' ? feed.spec.partners.map((p) => p.id) : [null];
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: feed.eventBridgeCron,
        ScheduleExpressionTimezone: feed.spec.schedule.timezone,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { Ref: Match.stringLikeRegexp('^ExchangePipelineStateMachine') },
          Input: JSON.stringify({ feed: feed.spec.name, slot: '<aws.scheduler.scheduled-time>', partners }),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExchangeFeedSchedulesDeadLetters'), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21600 },
        },
      });
    }
    expect(feeds.find((f) => f.spec.name === 'partner_statements')!.eventBridgeCron).toBe('cron(30 5 ? * 2-6 *)');
  });

  it('let the scheduler role start only this state machine and the SLA watch, and write only to the dead-letter queue', () => {
    expect(lines(grantsOf(template, 'ExchangeFeedSchedulesRole'), '')).toEqual([
      expect.stringMatching(/^lambda:InvokeFunction <ExchangeMonitoringSlaWatchFunction[0-9A-F]{8}\.Arn>$/),
      expect.stringMatching(/^lambda:InvokeFunction <ExchangeMonitoringSlaWatchFunction[0-9A-F]{8}\.Arn>:\*$/),
      expect.stringMatching(/^sqs:SendMessage <ExchangeFeedSchedulesDeadLetters[0-9A-F]{8}\.Arn>$/),
      expect.stringMatching(/^states:StartExecution <ExchangePipelineStateMachine[0-9A-F]{8}>$/),
    ]);
  });
});

describe('the notices', () => {
  it('have an encrypted, TLS-only topic per feed named after it, and an ops topic', () => {
    for (const feed of feeds) {
      template.hasResourceProperties('AWS::SNS::Topic', {
        TopicName: Match.stringLikeRegexp(`-feed-${feed.spec.name}$`),
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExchangeTopicKey'), 'Arn'] },
      });
    }
    template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'dropkit operations' });
    expect(Object.keys(template.findResources('AWS::SNS::TopicPolicy'))).toHaveLength(feeds.length + 1);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('the Lambdas', () => {
  it('run Node.js 22 or newer on arm64 with tracing, each with its own role, and the settings the runtime reads', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    // The pipeline steps (sign-off and push included), the link broker, its authorizer and the SLA watch.
    expect(Object.keys(fns)).toHaveLength(13);
    const roles = new Set<string>();
    for (const fn of Object.values(fns)) {
      expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime)![1])).toBeGreaterThanOrEqual(22);
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      roles.add(fn.Properties.Role['Fn::GetAtt'][0]);
    }
    expect(roles.size).toBe(13);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          DROPKIT_PREFIX: 'drops',
          DROPKIT_BUCKET: { Ref: Match.stringLikeRegexp('^ExchangeDropsBucketDrops') },
          DROPKIT_WORKGROUP: { Ref: Match.stringLikeRegexp('^ExchangeQueryWorkGroup') },
          DROPKIT_FEED_TOPIC_ARN_PREFIX: Match.anyValue(),
        }),
      },
    });
  });
});

describe('every IAM policy is scoped to what its holder does', () => {
  const drops = [`${B}/drops/*/latest.json`, `${B}/drops/*/slot=*/run=*/*`];
  const s3Of = (role: string) => lines(grantsOf(template, role), 's3:');

  it('gives no role an action on "*" but X-Ray tracing and Step Functions log delivery', () => {
    const roles = Object.keys(template.findResources('AWS::IAM::Role'));
    for (const role of roles) {
      for (const g of grantsOf(template, role)) {
        if (g.resource === '*')
          expect(`${role} ${g.action}`).toMatch(
            / (xray:(PutTraceSegments|PutTelemetryRecords|GetSampling\w+)|logs:(\w+LogDeliver\w*|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/,
          );
      }
    }
  });

  it('keeps every S3 grant inside the drops bucket, under the project prefix or the results prefix', () => {
    for (const role of Object.keys(template.findResources('AWS::IAM::Role'))) {
      for (const g of grantsOf(template, role).filter((x) => x.action.startsWith('s3:'))) {
        expect(g.resource).toMatch(new RegExp(`^${B.replace(/[<>.]/g, '\\$&')}(/drops/|/_athena-results/|$)`));
      }
    }
  });

  it('link broker: reads published drops, lists the project prefix, and (sign-off) reads and writes the holds, nothing else', () => {
    const g = grantsOf(template, 'ExchangeLinkBrokerLinkBrokerFunctionRole');
    expect(services(g)).toEqual(['logs', 's3', 'states', 'xray']);
    const holds = `${B}/drops/_approvals/*`;
    expect(s3Of('ExchangeLinkBrokerLinkBrokerFunctionRole')).toEqual(
      [
        ...drops.map((d) => `s3:GetObject ${d}`),
        ...drops.map((d) => `s3:GetObjectVersion ${d}`),
        `s3:ListBucket ${B}`,
        ...['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:GetObjectVersion', 's3:ListMultipartUploadParts', 's3:PutObject'].map(
          (a) => `${a} ${holds}`,
        ),
      ].sort(),
    );
    expect(g.find((x) => x.action === 's3:ListBucket')!.condition).toEqual({ StringLikeIfExists: { 's3:prefix': ['drops/*'] } });
  });

  it('partner authorizer: reads only the partner key secrets', () => {
    const g = grantsOf(template, 'ExchangeLinkBrokerPartnerAuthorizerFunctionRole');
    expect(services(g)).toEqual(['logs', 'secretsmanager', 'xray']);
    expect(lines(g, 'secretsmanager:')).toEqual([
      expect.stringMatching(
        /^secretsmanager:GetSecretValue arn:<AWS::Partition>:secretsmanager:eu-west-1:123456789012:secret:dropkit\/dropkit-exchange-[0-9a-f]+\/partners\/\*$/,
      ),
    ]);
  });

  it('compile-stage: no data access at all', () => {
    expect(services(grantsOf(template, 'ExchangePipelineCompileStageFunctionRole'))).toEqual(['logs', 'xray']);
  });

  it('plan: writes leases, run records and pointers; may only read and delete drop files and staging', () => {
    const s3 = s3Of('ExchangePipelinePlanFunctionRole');
    expect(s3.filter((l) => l.startsWith('s3:PutObject '))).toEqual([
      `s3:PutObject ${B}/drops/*/latest.json`,
      `s3:PutObject ${B}/drops/_leases/*`,
      `s3:PutObject ${B}/drops/_runs/*`,
    ]);
    expect(s3.filter((l) => l.startsWith('s3:DeleteObject '))).toEqual(
      expect.arrayContaining([`s3:DeleteObject ${B}/drops/*/slot=*/run=*/*`, `s3:DeleteObject ${B}/drops/_staging/*`]),
    );
    expect(services(grantsOf(template, 'ExchangePipelinePlanFunctionRole'))).toEqual(['events', 'kms', 'logs', 's3', 'sns', 'xray']);
    expect(lines(grantsOf(template, 'ExchangePipelinePlanFunctionRole'), 'sns:')).toEqual([
      expect.stringMatching(/^sns:Publish arn:.*:sns:eu-west-1:123456789012:dropkit-exchange-[0-9a-f]+-feed-\*$/),
    ]);
  });

  it('render: staging and query results only, Athena in the workgroup, Glue on the staging database', () => {
    const g = grantsOf(template, 'ExchangePipelineRenderFunctionRole');
    expect(services(g)).toEqual(['athena', 'glue', 'logs', 's3', 'xray']);
    expect(
      new Set(g.filter((x) => x.action.startsWith('s3:') && !['s3:ListBucket', 's3:GetBucketLocation'].includes(x.action)).map((x) => x.resource)),
    ).toEqual(new Set([`${B}/drops/_staging/*`, `${B}/_athena-results/*`]));
    expect(lines(g, 's3:GetBucketLocation')).toEqual([`s3:GetBucketLocation ${B}`]);
    expect(new Set(lines(g, 'athena:').map((l) => l.split(' ')[1]))).toEqual(
      new Set([
        'arn:<AWS::Partition>:athena:eu-west-1:123456789012:workgroup/<ExchangeQueryWorkGroup11DF4341>',
        'arn:<AWS::Partition>:athena:eu-west-1:123456789012:datacatalog/AwsDataCatalog',
      ]),
    );
    for (const l of lines(g, 'glue:'))
      expect(l).toMatch(
        / arn:<AWS::Partition>:glue:eu-west-1:123456789012:(catalog|database\/dropkit_exchange_\w+_staging|table\/dropkit_exchange_\w+_staging\/\*)$/,
      );
    expect(lines(g, 'glue:DeleteTable')).toEqual([]);
  });

  it("complete-stage and validate: may write the attempt's staging, where Athena writes their query results with their rights, and no drop", () => {
    for (const role of ['ExchangePipelineCompleteStageFunctionRole', 'ExchangePipelineValidateFunctionRole']) {
      const puts = lines(grantsOf(template, role), 's3:PutObject').map((l) => l.split(' ')[1]);
      expect(puts).toContain(`${B}/drops/_staging/*`);
      expect(puts).not.toEqual(expect.arrayContaining([`${B}/drops/*/slot=*/run=*/*`]));
      expect(puts).not.toEqual(expect.arrayContaining([`${B}/drops/*/latest.json`]));
    }
  });

  it('notify: reads drops, writes run records and leases, publishes to the feed topics and the default bus', () => {
    const g = grantsOf(template, 'ExchangePipelineNotifyFunctionRole');
    expect(services(g)).toEqual(['events', 'kms', 'logs', 's3', 'sns', 'xray']);
    expect(lines(g, 's3:PutObject', 's3:DeleteObject').map((l) => l.split(' ')[1])).toEqual(expect.not.arrayContaining(drops));
    expect(lines(g, 'events:')).toEqual(['events:PutEvents arn:<AWS::Partition>:events:eu-west-1:123456789012:event-bus/default']);
  });

  it('fail-run: alerts only the ops topic', () => {
    expect(lines(grantsOf(template, 'ExchangePipelineFailRunFunctionRole'), 'sns:')).toEqual(['sns:Publish <ExchangeOpsTopicFE886199>']);
  });

  it('the state machine: invokes its own functions, runs queries in the workgroup, writes staging and results only, alerts ops', () => {
    const g = grantsOf(template, 'ExchangePipelineStateMachineRole');
    for (const l of lines(g, 'lambda:')) expect(l).toMatch(/^lambda:InvokeFunction <Exchange\w+Function[0-9A-F]{8}\.Arn>(:\*)?$/);
    expect(lines(g, 's3:PutObject')).toEqual([`s3:PutObject ${B}/_athena-results/*`, `s3:PutObject ${B}/drops/_staging/*`]);
    expect(g.find((x) => x.action === 's3:ListBucket')!.condition).toEqual({ StringLike: { 's3:prefix': ['drops/_staging/*', '_athena-results/*'] } });
    expect(lines(g, 'sns:')).toEqual(['sns:Publish <ExchangeOpsTopicFE886199>']);
    expect(lines(g, 'athena:').map((l) => l.split(' ')[1])).toEqual(
      Array(2).fill('arn:<AWS::Partition>:athena:eu-west-1:123456789012:workgroup/<ExchangeQueryWorkGroup11DF4341>'),
    );
  });

  it('the state machine reads the named source tables and locations, and nothing broader', () => {
    const stack = exampleStack(testApp(), {
      sources: { glueTables: [{ database: 'sales', tables: ['orders', 'customers'] }], s3Locations: ['s3://shop-lake/sales/orders/'] },
    });
    const g = grantsOf(Template.fromStack(stack), 'ExchangePipelineStateMachineRole');
    const glueTables = g.filter((x) => x.action === 'glue:GetTable').map((x) => x.resource);
    expect(glueTables).toEqual(
      expect.arrayContaining([
        'arn:<AWS::Partition>:glue:eu-west-1:123456789012:table/sales/orders',
        'arn:<AWS::Partition>:glue:eu-west-1:123456789012:table/sales/customers',
      ]),
    );
    expect(glueTables.filter((r) => r.includes('/sales/'))).toHaveLength(2);
    expect(lines(g, 's3:GetObject')).toContain('s3:GetObject arn:<AWS::Partition>:s3:::shop-lake/sales/orders/*');
    const list = g.filter((x) => x.action === 's3:ListBucket' && x.resource.endsWith('shop-lake'));
    expect(list).toEqual([
      { action: 's3:ListBucket', resource: 'arn:<AWS::Partition>:s3:::shop-lake', condition: { StringLike: { 's3:prefix': ['sales/orders/*'] } } },
    ]);
  });
});

describe('the link broker', () => {
  it('is a REST API whose methods need the partner authorizer and an API key (throttling), with access logs and tracing', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
    // The partners' GET routes; the approvers' GET and POST routes (sign-off) take IAM auth (test/approval/approval-aws.test.ts).
    const onApprovals = (m: any) => /approvals/i.test(JSON.stringify(m.Properties.ResourceId));
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: 'GET' } })).filter((m) => !onApprovals(m));
    expect(methods).toHaveLength(2);
    for (const m of methods) expect(m.Properties).toMatchObject({ HttpMethod: 'GET', AuthorizationType: 'CUSTOM', ApiKeyRequired: true });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExchangeLinkBrokerLinkBrokerAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('requestId'),
      },
    });
  });

  it('has a usage plan, an API key and a key-hash secret per partner, the secret starting without a hash', () => {
    const partners = [...new Set(feeds.flatMap((f) => f.spec.partners.map((p) => p.id)))];
    expect(Object.keys(template.findResources('AWS::ApiGateway::UsagePlan'))).toHaveLength(partners.length);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Throttle: { RateLimit: 5, BurstLimit: 10 } });
    for (const id of partners) {
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: Match.stringLikeRegexp(`^dropkit/dropkit-exchange-[0-9a-f]+/partners/${id}$`),
        GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'unset' },
      });
    }
  });
});

describe('the link broker for partners with AWS accounts', () => {
  it('adds SigV4 (IAM) routes open to the named accounts only, and tells the broker who is who', () => {
    const t = Template.fromStack(exampleStack(testApp(), { iamPartners: { globex: '111122223333' } }));
    // Beside the approvers' GET (sign-off), which takes IAM auth too.
    const iamMethods = Object.values(t.findResources('AWS::ApiGateway::Method', { Properties: { AuthorizationType: 'AWS_IAM', HttpMethod: 'GET' } })).filter(
      (m) => !/approvals/i.test(JSON.stringify(m.Properties.ResourceId)),
    );
    expect(iamMethods).toHaveLength(2);
    t.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'execute-api:Invoke',
            Resource: 'execute-api:/*/GET/iam/*',
            Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] } },
          },
        ],
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ DROPKIT_IAM_PARTNERS: '{"111122223333":"globex"}' }) } });
  });

  it('refuses an account for a partner no feed has, or an id that is not an account', () => {
    expect(() => exampleStack(testApp(), { iamPartners: { umbrella: '111122223333' } })).toThrow('iamPartners.umbrella: no feed has a partner "umbrella"');
    expect(() => exampleStack(testApp(), { iamPartners: { globex: 'globex-account' } })).toThrow('"globex-account" is not a 12-digit AWS account id');
  });
});

describe('monitoring', () => {
  it('alarms on failed runs, failed validations, late and missed SLAs and dead letters, to the ops topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ExecutionsFailed',
      'SlaLate',
      'SlaMissed',
      'ValidationFailed',
    ]);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^ExchangeOpsTopic/) }]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ValidationFailed',
      Namespace: 'dropkit',
      Dimensions: [{ Name: 'service', Value: 'dropkit' }],
      Threshold: 1,
    });
  });

  it('has a dashboard of deliveries, lateness and failures per feed', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['Delivered', 'DeliveryLatencySeconds', 'SlaLate', 'RunFailed', 'ValidationFailed'])
      expect(body).toContain(`MetricName=\\\\\\"${metric}\\\\\\"`);
  });
});

describe('the SLA watch', () => {
  const slaSchedules = (stack: Stack) =>
    Object.values(Template.fromStack(stack).findResources('AWS::Scheduler::Schedule')).filter((r) =>
      String(r.Properties.Description).startsWith('dropkit SLA watch'),
    );

  it('runs dropkit’s watch every five minutes by default, with read access to drops and runs and write access only to _sla/', () => {
    const stack = new Stack(testApp(), 'Sla', { env: { account: '123456789012', region: 'eu-west-1' } });
    const exchange = new FileExchange(stack, 'Exchange', { feeds });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: { Arn: { 'Fn::GetAtt': [stack.getLogicalId(exchange.functions.slaWatch!.node.defaultChild as CfnResource), 'Arn'] } },
    });
    const policies = JSON.stringify(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: stack.getLogicalId(exchange.functions.slaWatch!.role!.node.defaultChild as CfnResource) }] },
      }),
    );
    expect(policies).toContain('_sla/*');
    expect(policies).not.toMatch(/_staging|_leases/);
  });

  it('runs a function of your own instead when given, and none when disabled', () => {
    const own = new Stack(testApp(), 'SlaOwn', { env: { account: '123456789012', region: 'eu-west-1' } });
    const { Function: Fn, Code, Runtime } = require('aws-cdk-lib/aws-lambda');
    const watch = new Fn(own, 'Watch', { runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler = async () => {}') });
    new FileExchange(own, 'Exchange', { feeds, slaWatch: { handler: watch } });
    Template.fromStack(own).hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Watch'), 'Arn'] } },
    });
    const off = new Stack(testApp(), 'SlaOff', { env: { account: '123456789012', region: 'eu-west-1' } });
    new FileExchange(off, 'Exchange', { feeds, slaWatch: { enabled: false } });
    expect(slaSchedules(off)).toEqual([]);
    // Nothing unused: neither stack has dropkit's SLA watch function.
    for (const stack of [own, off]) Template.fromStack(stack).resourcePropertiesCountIs('AWS::Lambda::Function', { Description: 'dropkit: sla-watch' }, 0);
  });
});
