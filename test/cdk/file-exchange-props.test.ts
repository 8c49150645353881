import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DeployConfigError } from '../../lib/cdk/errors';
import { FileExchange, FileExchangeProps } from '../../lib/cdk/file-exchange';
import { propProblems } from '../../lib/cdk/validate-props';
import { ENV } from '../../lib/core/deploy-contract';
import { loadProject } from '../../lib/project/load-project';
import { functionBundles } from '../helpers/bundled-synth';
import { EXAMPLE, exampleStack, testApp } from './cdk-app';
import { grantsOf, lines } from './iam';

const feeds = loadProject(EXAMPLE, { localSources: false }).feeds;
const newStack = (id: string) => new Stack(testApp(), id, { env: { account: '123456789012', region: 'eu-west-1' } });
const synth = (id: string, props: Partial<FileExchangeProps> = {}) => {
  const stack = newStack(id);
  const exchange = new FileExchange(stack, 'Exchange', { feeds, ...props });
  return { stack, exchange, template: Template.fromStack(stack) };
};

describe('FileExchange props', () => {
  it('refuses bad props with one error naming every prop, its bad value and the fix', () => {
    const bad: Partial<FileExchangeProps> = {
      partnerConcurrency: 0,
      partnerRateLimit: -1,
      bytesScannedCutoffPerQuery: 1,
      leaseTtl: Duration.minutes(1),
      keyPrefix: '/drops/',
    };
    let error: unknown;
    try {
      new FileExchange(newStack('Bad'), 'Exchange', { feeds, ...bad });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeployConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^FileExchange: 5 invalid props:/);
    expect(message).toContain('partnerConcurrency: 0 must be a whole number of at least 1');
    expect(message).toContain('partnerRateLimit: -1 must be more than 0');
    expect(message).toContain("bytesScannedCutoffPerQuery: 1 is below Athena's minimum");
    expect(message).toContain('leaseTtl: 1 minute must be longer than the longest step (15 minutes)');
    expect(message).toContain('keyPrefix: "/drops/" must be');
    expect(message.match(/\n {4}fix: /g)).toHaveLength(5);
  });

  it('passes good props, the defaults and values known only at deploy (tokens)', () => {
    expect(propProblems({ feeds })).toEqual([]);
    expect(
      propProblems({
        feeds,
        partnerConcurrency: 1,
        partnerRateLimit: 0.5,
        bytesScannedCutoffPerQuery: Lazy.number({ produce: () => 1 }),
        leaseTtl: Duration.minutes(30),
        keyPrefix: 'exchange/shop',
      }),
    ).toEqual([]);
  });

  it('refuses props for a new bucket beside an imported existingBucket (existing or new, never both)', () => {
    const stack = newStack('Imported');
    const existingBucket = s3.Bucket.fromBucketName(stack, 'Theirs', 'their-drops');
    expect(propProblems({ feeds, existingBucket, stagingExpiration: Duration.days(2) })).toEqual([
      expect.objectContaining({
        prop: 'stagingExpiration',
        problem: expect.stringContaining('imported bucket'),
        fix: 'drop stagingExpiration, or set the rule on your bucket (expire <prefix>/_staging/ and _athena-results/ there)',
      }),
    ]);
    expect(propProblems({ feeds, existingBucket })).toEqual([]);
  });

  it('names the bad account of an IAM partner', () => {
    expect(propProblems({ feeds, iamPartners: { acme: '123456789012', globex: 'globex' } })).toEqual([
      expect.objectContaining({ prop: 'iamPartners.globex', value: '"globex"' }),
    ]);
  });
});

describe('a fresh account', () => {
  it("sets API Gateway's account CloudWatch role by default (access logging needs it), retained on delete", () => {
    const { template } = synth('Fresh');
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    template.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
    // The stage with access logging is created only once the account has its role.
    const account = Object.keys(template.findResources('AWS::ApiGateway::Account'))[0];
    template.hasResource('AWS::ApiGateway::Stage', { DependsOn: Match.arrayWith([account]) });
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']] }],
    });
  });

  it('leaves the role to another stack when asked', () => {
    synth('Shared', { apiGatewayCloudWatchRole: false }).template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });
});

describe('partner API keys', () => {
  it('are named partner first, so `aws apigateway get-api-keys --name-query <partner>` finds them', () => {
    const { template } = synth('Keys');
    const partners = [...new Set(feeds.flatMap((f) => f.spec.partners.map((p) => p.id)))];
    expect(partners.length).toBeGreaterThan(0);
    for (const id of partners) template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: Match.stringLikeRegexp(`^${id}\\.keys-exchange-`) });
  });
});

describe('with a customer KMS key', () => {
  it('hands the key to every function that writes, so the store and Athena write SSE-KMS with it', () => {
    const stack = newStack('Kms');
    const key = new kms.Key(stack, 'Key');
    const exchange = new FileExchange(stack, 'Exchange', { feeds, encryptionKey: key });
    const template = Template.fromStack(stack);
    const keyRef = stack.resolve(key.keyArn);
    for (const role of ['plan', 'completeStage', 'validate', 'render', 'publish', 'notify', 'failRun'] as const) {
      const logicalId = stack.getLogicalId(exchange.functions[role].node.defaultChild as never);
      expect(template.toJSON().Resources[logicalId].Properties.Environment.Variables[ENV.kmsKeyArn]).toEqual(keyRef);
    }
  });

  it('sets no key variable without one', () => {
    const { template } = synth('NoKms');
    for (const fn of Object.values<any>(template.findResources('AWS::Lambda::Function')))
      expect(Object.keys(fn.Properties.Environment?.Variables ?? {})).not.toContain(ENV.kmsKeyArn);
  });
});

describe('with an existing bucket', () => {
  it('creates no bucket, adds its lifecycle rules to yours and points every function at it', () => {
    const stack = newStack('Byo');
    const own = new s3.Bucket(stack, 'Own', { versioned: true, enforceSSL: true });
    const exchange = new FileExchange(stack, 'Exchange', { feeds, existingBucket: own });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(exchange.bucket).toBe(own);
    expect(exchange.logBucket).toBeUndefined();
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-staging', Prefix: 'drops/_staging/' })]) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.bucket]: { Ref: stack.getLogicalId(own.node.defaultChild as never) } }) },
    });
  });
});

describe('the partner authorizer bundle', () => {
  it('holds the Secrets Manager client only, not the clients of the pipeline (it imports the deploy contract, not the runtime)', () => {
    const inputs = functionBundles().find((b) => b.file === 'partner-authorizer')!.sources;
    expect(inputs.some((i) => i.includes('@aws-sdk/client-secrets-manager/'))).toBe(true);
    for (const client of ['client-athena', 'client-s3', 'client-sns', 'client-eventbridge'])
      expect(inputs.filter((i) => i.includes(`@aws-sdk/${client}/`))).toEqual([]);
  });
});

/** The Glue tables the state machine (which runs the stage query) may read. */
const tablesGranted = (template: Template) =>
  lines(grantsOf(template, 'ExchangePipelineStateMachineRole'), 'glue:GetTable')
    .filter((l) => l.startsWith('glue:GetTable ') && l.includes(':table/'))
    .map((l) => l.split(':table/')[1])
    .sort();

describe("the project's aws: section", () => {
  it('grants the pipeline exactly the Glue tables the example declares, and resolves unqualified names in its database', () => {
    const stack = exampleStack();
    const template = Template.fromStack(stack);
    const glue = tablesGranted(template);
    expect(glue.filter((t) => !t.endsWith('_staging/*'))).toEqual(['shop/customers', 'shop/orders', 'shop/returns', 'shop_raw/customers']);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [ENV.sourceDatabase]: 'shop' }) } });
  });

  it('is overridden by sources and sourceDatabase given to the stack', () => {
    const template = Template.fromStack(exampleStack(testApp(), { sourceDatabase: 'sales', sources: { glueTables: [{ database: 'sales' }] } }));
    const glue = tablesGranted(template);
    expect(glue).toContain('sales/*');
    expect(glue).not.toContain('shop/orders');
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [ENV.sourceDatabase]: 'sales' }) } });
  });
});
