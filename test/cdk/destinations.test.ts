import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { FileExchange } from '../../lib/cdk/file-exchange';
import { ConfigError } from '../../lib/core/errors';
import { deployedFeed } from '../../lib/core/destinations/deployable';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import { feedSchema } from '../../lib/core/feed/feed-schema';
import { loadProject } from '../../lib/project/load-project';
import { EXAMPLE, testApp } from './cdk-app';
import { grantsOf, lines } from './iam';

const example = loadProject(EXAMPLE, { localSources: false }).feeds;
const base = example.find((f) => f.spec.name === 'daily_orders')!;

/** daily_orders with these destinations (the feed's) and, for partner acme, its own. */
function withDestinations(feed: unknown[], acme: unknown[] = []): FeedDefinition {
  const spec = feedSchema.parse({
    ...JSON.parse(JSON.stringify(base.spec)),
    destinations: feed,
    partners: base.spec.partners.map((p) => (p.id === 'acme' ? { ...p, destinations: acme } : p)),
  });
  return { ...base, spec };
}

function synth(feeds: FeedDefinition[], rulePacks = false): Template {
  const app = testApp();
  const stack = new Stack(app, 'Push', { env: { account: '123456789012', region: 'eu-west-1' } });
  new FileExchange(stack, 'Exchange', { feeds });
  // cdk-nag reports through CDK's validation: a finding not acknowledged fails the synth.
  if (rulePacks) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  if (rulePacks) app.synth();
  return Template.fromStack(stack);
}

const ROLE = 'arn:aws:iam::210987654321:role/dropkit-inbound';
const KEY = 'arn:aws:kms:eu-west-1:210987654321:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

describe('the deployed push', () => {
  let template: Template;
  beforeAll(() => {
    // With both rule packs: each declared partner prefix and secret is acknowledged by name.
    template = synth(
      [
        withDestinations(
          [
            { name: 'their-role', type: 's3', bucket: 'acme-inbound', roleArn: ROLE, externalId: 'shop-orders' },
            {
              name: 'crm',
              type: 'api',
              url: 'https://crm.example/api',
              tokenEnv: 'CRM_TOKEN',
              secret: { name: 'dropkit/crm-token' },
              mapping: { order_id: 'id' },
            },
          ],
          [
            { name: 'their-policy', type: 's3', bucket: 'globex-drop', prefix: '/in/dropkit/', kmsKeyId: KEY },
            {
              name: 'acme-sftp',
              type: 'sftp',
              host: 'sftp.acme.example',
              username: 'shop',
              privateKeyEnv: 'ACME_KEY',
              hostKeySha256: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
              connectorId: 'c-0123456789abcdef0',
            },
          ],
        ),
        ...example.filter((f) => f.spec.name !== 'daily_orders'),
      ],
      true,
    );
  });

  it("lets the push function assume only the declared partner roles, write only under a bucket policy's declared prefix, with their key", () => {
    const g = grantsOf(template, 'ExchangePipelinePushFunctionRole');
    expect(lines(g, 'sts:')).toEqual([`sts:AssumeRole ${ROLE}`]);
    expect(lines(g, 's3:PutObjectAcl', 'kms:GenerateDataKey', 'kms:Encrypt')).toEqual([
      `kms:Encrypt ${KEY}`,
      `kms:GenerateDataKey ${KEY}`,
      's3:PutObjectAcl arn:<AWS::Partition>:s3:::globex-drop/in/dropkit/*',
    ]);
    // A resumed push HEADs what it sent: listing (for a 404) only under the declared prefix.
    expect(g.filter((x) => x.action === 's3:ListBucket' && x.resource.includes('globex-drop'))).toEqual([
      { action: 's3:ListBucket', resource: 'arn:<AWS::Partition>:s3:::globex-drop', condition: { StringLikeIfExists: { 's3:prefix': ['in/dropkit/*'] } } },
    ]);
    // Nothing of the partner role's bucket: that role is theirs to scope.
    expect(g.filter((x) => x.resource.includes('acme-inbound'))).toEqual([]);
  });

  it('lets it start transfers only on the declared connector and read only the declared API secret', () => {
    const g = grantsOf(template, 'ExchangePipelinePushFunctionRole');
    expect(lines(g, 'transfer:')).toEqual([
      'transfer:ListFileTransferResults arn:<AWS::Partition>:transfer:eu-west-1:123456789012:connector/c-0123456789abcdef0',
      'transfer:StartFileTransfer arn:<AWS::Partition>:transfer:eu-west-1:123456789012:connector/c-0123456789abcdef0',
    ]);
    expect(lines(g, 'secretsmanager:')).toEqual([
      'secretsmanager:GetSecretValue arn:<AWS::Partition>:secretsmanager:eu-west-1:123456789012:secret:dropkit/crm-token-??????',
    ]);
  });

  it("reads only drop files of our bucket and writes only run records, delivery records and the slot's lease (renewed while pushing); no other function gets the partners' grants", () => {
    const g = grantsOf(template, 'ExchangePipelinePushFunctionRole');
    const ours = g.filter((x) => x.action.startsWith('s3:') && x.resource.includes('ExchangeDropsBucket'));
    expect([...new Set(ours.filter((x) => x.action === 's3:PutObject').map((x) => x.resource))].sort()).toEqual([
      '<ExchangeDropsBucketDropsD8E12C96.Arn>/drops/_deliveries/*',
      '<ExchangeDropsBucketDropsD8E12C96.Arn>/drops/_leases/*',
      '<ExchangeDropsBucketDropsD8E12C96.Arn>/drops/_runs/*',
    ]);
    expect([...new Set(ours.filter((x) => x.action === 's3:GetObject').map((x) => x.resource))].sort()).toEqual([
      '<ExchangeDropsBucketDropsD8E12C96.Arn>/drops/*/slot=*/run=*/*',
      '<ExchangeDropsBucketDropsD8E12C96.Arn>/drops/_deliveries/*',
      '<ExchangeDropsBucketDropsD8E12C96.Arn>/drops/_leases/*',
      '<ExchangeDropsBucketDropsD8E12C96.Arn>/drops/_runs/*',
    ]);
    // Diff syncs on Athena: the push function creates only its own diff tables in the staging database.
    expect(lines(g, 'glue:CreateTable').filter((l) => l.includes(':table/'))).toEqual([expect.stringMatching(/:table\/[a-z0-9_]+_staging\/dropkit_diff_\*$/)]);
    for (const role of ['Plan', 'Notify', 'Publish', 'FailRun']) {
      const other = grantsOf(template, `ExchangePipeline${role}FunctionRole`);
      expect(lines(other, 'sts:', 'transfer:', 's3:PutObjectAcl')).toEqual([]);
    }
  });
});

describe('a destination the deployed pipeline cannot serve', () => {
  it('is refused at synth, every one named with its field and the fix', () => {
    const feed = withDestinations(
      [{ name: 'folder', type: 'local', path: 'out' }],
      [
        {
          name: 'no-connector',
          type: 'sftp',
          host: 'sftp.acme.example',
          username: 'shop',
          privateKeyEnv: 'ACME_KEY',
          hostKeySha256: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
        },
        { name: 'env-token', type: 'api', url: 'https://crm.example/api', tokenEnv: 'CRM_TOKEN', mapping: { order_id: 'id' } },
      ],
    );
    let error: unknown;
    try {
      synth([feed]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => [p.file, p.path])).toEqual([
      [base.file, 'partners[0].destinations[0].connectorId'],
      [base.file, 'partners[0].destinations[1].secret'],
    ]);
    expect(problems[0].fix).toMatch(/aws transfer create-connector --url sftp:\/\/sftp\.acme\.example/);
    expect(problems[1]).toMatchObject({ value: 'CRM_TOKEN', fix: expect.stringContaining('secret: { name: dropkit/destinations/env-token }') });
  });
});

describe('a local folder destination (development only)', () => {
  it('is left out of the deployed feeds with a synth warning naming it, and the rest of the feed deploys', () => {
    const feed = withDestinations([
      { name: 'folder', type: 'local', path: 'out' },
      { name: 'their-role', type: 's3', bucket: 'acme-inbound', roleArn: ROLE, externalId: 'shop-orders' },
    ]);
    const app = testApp();
    const stack = new Stack(app, 'Push', { env: { account: '123456789012', region: 'eu-west-1' } });
    const exchange = new FileExchange(stack, 'Exchange', { feeds: [feed] });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('destinations\\[0\\]: a local folder destination'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toContain(feed.file);
    // The role of the s3 destination is granted; nothing names the folder.
    const template = Template.fromStack(stack);
    expect(JSON.stringify(template.toJSON())).toContain(ROLE);
    expect(exchange).toBeDefined();
    const { feed: deployed, leftOut } = deployedFeed(feed);
    expect(leftOut).toEqual(['destinations[0]']);
    expect(deployed.spec.destinations.map((d) => d.name)).toEqual(['their-role']);
  });
});
