import { App, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import { FileExchange } from '../../lib/cdk/file-exchange';
import { keyScopes } from '../../lib/cdk/key-scopes';
import { DEFAULT_KEY_PREFIX } from '../../lib/core/deploy-contract';
import { loadProject } from '../../lib/project/load-project';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { EXAMPLE, exampleStack, testApp } from './cdk-app';

/** Synthesizes with both rule packs; cdk-nag 3 reports through CDK's validation: a finding not acknowledged fails the synth. */
function synthWithRulePacks(app: App): { error?: Error } {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  try {
    app.synth();
    return {};
  } catch (error) {
    return { error: error as Error };
  }
}

/** Every acknowledgement recorded anywhere in the app: rule id → reason. */
function acknowledgements(app: App): [string, string][] {
  const out: [string, string][] = [];
  for (const node of app.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) out.push(...Object.entries(entry.data as Record<string, string>));
    }
  }
  return out;
}

describe('the AwsSolutions and Serverless rule packs', () => {
  it('find nothing unacknowledged in the stack, and every acknowledgement says why', () => {
    const app = testApp();
    exampleStack(app);
    const { error } = synthWithRulePacks(app);
    expect(error?.message).toBeUndefined();
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(20);
    for (const [id, reason] of acks) {
      expect(id).toMatch(/(AwsSolutions|Serverless)-/);
      expect(reason.length).toBeGreaterThan(30);
    }
    // Rule by rule, what is acknowledged (wildcards are acknowledged one finding at a time).
    const rules = new Set(acks.map(([id]) => /(AwsSolutions|Serverless)-[A-Za-z0-9]+/.exec(id)![0]));
    expect([...rules].sort()).toEqual([
      'AwsSolutions-APIG3',
      'AwsSolutions-APIG6',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-SMG4',
      'AwsSolutions-SQS3',
      'Serverless-LambdaDLQ',
      'Serverless-SQSRedrivePolicy',
    ]);
    // Every object-key pattern of the layout that the stack grants is acknowledged as a finding of its own.
    const keyFindings = acks.flatMap(([id]) => /AwsSolutions-IAM5\[Resource::<[^>]+>\/(.+)\]$/.exec(id)?.[1] ?? []);
    const { drops: _both, listPrefix: _condition, ...granted } = keyScopes(DEFAULT_KEY_PREFIX);
    expect(Object.values(granted).filter((p) => !keyFindings.includes(p))).toEqual([]);
  });

  it('find nothing unacknowledged with SigV4 partners and a customer KMS key either', () => {
    const app = testApp();
    const stack = new Stack(app, 'Kms', { env: { account: '123456789012', region: 'eu-west-1' } });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const exchange = new FileExchange(stack, 'Exchange', {
      feeds: loadProject(EXAMPLE, { localSources: false }).feeds,
      encryptionKey: key,
      iamPartners: { globex: '111122223333' },
    });
    const { error } = synthWithRulePacks(app);
    expect(error?.message).toBeUndefined();
    // The two partner SigV4 routes and the approvers' two (sign-off: look, decide).
    expect(exchange.api.methods.filter((m) => (m.node.defaultChild as apigw.CfnMethod).authorizationType === 'AWS_IAM')).toHaveLength(4);
  });

  it('still fail the synth on a wildcard the construct does not explain', () => {
    const app = testApp();
    const stack = exampleStack(app);
    const role = stack.exchange.functions.linkBroker.role!;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::someone-elses-bucket/*'] }));
    const { error } = synthWithRulePacks(app);
    expect(error?.message).toMatch(/AwsSolutions-IAM5\[Resource::arn:aws:s3:::someone-elses-bucket\/\*\]/);
  });
});
