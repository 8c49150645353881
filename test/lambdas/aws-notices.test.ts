import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { IDEMPOTENCY_KEY_HEADER, verifyWebhookSignature } from '../../lib/adapters/webhook/webhook-signature';
import { ConfigError } from '../../lib/core/errors';
import type { DropEvent } from '../../lib/core/ports/notifier';
import { loadProject } from '../../lib/project/load-project';
import { buildLambdaDeps, ENV } from '../../lambdas/runtime';
import { EXAMPLE, exampleStack, testApp } from '../cdk/cdk-app';

/** The example project with `daily_orders` given partner-level targets (a shared feed), in a scratch folder. */
function projectWith(partnerTargets: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dropkit-aws-notices-'));
  cpSync(EXAMPLE, dir, { recursive: true });
  const file = join(dir, 'feeds/daily_orders.yaml');
  const yaml = readFileSync(file, 'utf8');
  if (!/^partners:\n {2}- id: \S+\n/m.test(yaml)) throw new Error('the example feed changed shape: update this test');
  writeFileSync(file, yaml.replace(/^(partners:\n {2}- id: \S+\n)/m, `$1    notify:\n${partnerTargets}`));
  return dir;
}

const WEBHOOK = (url: string, extra = '') => `      - type: webhook\n        url: ${url}\n${extra}`;

function depsFor(dir: string) {
  const feeds = loadProject(dir, { localSources: false }).feeds;
  const file = join(dir, 'feeds.json');
  writeFileSync(file, JSON.stringify({ feeds }));
  return buildLambdaDeps({
    [ENV.bucket]: 'drops-bucket',
    [ENV.prefix]: 'drops',
    [ENV.feedsFile]: file,
    [ENV.feedTopicArnPrefix]: 'arn:aws:sns:eu-west-1:123456789012:shop-feed-',
    AWS_REGION: 'eu-west-1',
  });
}

function delivered(): DropEvent {
  return {
    type: 'drop.delivered',
    id: '20240115T050000Z-r1-abc',
    feed: 'daily_orders',
    partner: null,
    runId: '20240115T050000Z-r1-abc',
    revision: 1,
    slot: '20240115T050000Z',
    occurredAt: '2024-01-15T06:00:00.000Z',
  };
}

describe('notices on AWS: one routing with the local runner', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("tells a shared feed's partner-level targets (their own SNS topic and webhook), as a local run does", () => {
    const dir = projectWith(
      `      - type: sns\n        topicArn: arn:aws:sns:eu-west-1:123456789012:acme-inbox\n` +
        WEBHOOK('https://hooks.example.com/acme', '        secret: { name: dropkit/shop/webhooks/acme }\n'),
    );
    dirs.push(dir);
    const deps = depsFor(dir);
    const feed = deps.feeds.get('daily_orders');
    expect(feed.spec.delivery).not.toBe('per-partner');
    expect(deps.consumers(feed, null).map((n) => n.target)).toEqual([
      'sns arn:aws:sns:eu-west-1:123456789012:shop-feed-daily_orders',
      expect.stringMatching(/^eventbridge/),
      'sns arn:aws:sns:eu-west-1:123456789012:acme-inbox',
      'webhook https://hooks.example.com/acme',
    ]);
  });

  describe('a webhook, signed with its secret from Secrets Manager', () => {
    let server: Server;
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    const secrets = mockClient(SecretsManagerClient);
    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          received.push({ headers: req.headers, body });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      secrets.restore();
      await new Promise((resolve) => server.close(resolve));
    });

    it('is delivered by the notify step on AWS with the HMAC of the named secret and the run id as idempotency key', async () => {
      secrets.on(GetSecretValueCommand, { SecretId: 'dropkit/shop/webhooks/acme' }).resolves({ SecretString: 's3cret-from-sm' });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const dir = projectWith(WEBHOOK(url, '        secret: { name: dropkit/shop/webhooks/acme }\n'));
      dirs.push(dir);
      const deps = depsFor(dir);
      const webhook = deps.consumers(deps.feeds.get('daily_orders'), null).find((n) => n.target.startsWith('webhook'))!;
      const outcome = await webhook.notify(delivered());
      expect(outcome).toMatchObject({ status: 'sent', attempts: 1 });
      expect(received).toHaveLength(1);
      const [{ headers, body }] = received;
      expect(
        verifyWebhookSignature({
          secret: 's3cret-from-sm',
          body,
          timestamp: headers['x-dropkit-timestamp'] as string,
          signature: headers['x-dropkit-signature'] as string,
        }),
      ).toBe(true);
      expect(headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()]).toBe('20240115T050000Z-r1-abc');
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    });

    it('records a failed outcome, naming the secret, when the secret cannot be read', async () => {
      secrets.reset();
      secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
      const dir = projectWith(WEBHOOK('http://127.0.0.1:9/hook', '        secret: { name: dropkit/shop/webhooks/other }\n'));
      dirs.push(dir);
      const deps = depsFor(dir);
      const webhook = deps.consumers(deps.feeds.get('daily_orders'), null).find((n) => n.target.startsWith('webhook'))!;
      expect(await webhook.notify(delivered())).toMatchObject({ status: 'failed', detail: expect.stringContaining('dropkit/shop/webhooks/other') });
    });
  });

  describe('at synth', () => {
    it('refuses a webhook that names only an environment variable, with the fix', () => {
      const dir = projectWith(WEBHOOK('https://hooks.example.com/acme', '        secretEnv: ACME_SECRET\n'));
      dirs.push(dir);
      let error: unknown;
      try {
        exampleStack(testApp(), { projectDir: dir });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        expect.objectContaining({ file: expect.stringContaining('daily_orders.yaml'), path: 'partners[0].notify[0].secret', value: 'ACME_SECRET' }),
      ]);
      expect((error as Error).message).toMatch(/fix: store the HMAC secret in Secrets Manager .*secret: \{ name: /);
    });

    it('grants the notifying functions exactly the named secrets, and no other function', () => {
      const dir = projectWith(WEBHOOK('https://hooks.example.com/acme', '        secret: { name: dropkit/shop/webhooks/acme }\n'));
      dirs.push(dir);
      const template = Template.fromStack(exampleStack(testApp(), { projectDir: dir }));
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) =>
        JSON.stringify(p.Properties.PolicyDocument).includes(':secret:dropkit/shop/webhooks/acme-??????'),
      );
      for (const p of policies as any[])
        expect(p.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Action: 'secretsmanager:GetSecretValue' }));
      const roles = policies.flatMap((p: any) => p.Properties.Roles.map((r: any) => r.Ref));
      expect(roles.map((r: string) => r.replace(/Role[0-9A-F]{8}$/, '')).sort()).toEqual(
        ['ExchangePipelineNotifyFunction', 'ExchangePipelinePlanFunction', 'ExchangeMonitoringSlaWatchFunction'].sort(),
      );
    });
  });
});
