import 'aws-sdk-client-mock-jest';
import { createHash } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Manifest } from '../../lib/core/manifest';
import { runSlot } from '../../lib/runner/run-slot';
import { makeLinkBrokerHandler, ApiEvent } from '../../lambdas/link-broker';
import { makePartnerAuthorizer, secretsManagerHashes, TokenAuthorizerEvent } from '../../lambdas/partner-authorizer';
import { readJson } from '../helpers/local-run';
import { fixture, lambdaProject, LambdaProject } from './lambda-project';

function withPartner(event: ApiEvent, partnerId: string | null, path?: Record<string, string>): ApiEvent {
  return {
    ...event,
    pathParameters: { ...event.pathParameters, ...path },
    requestContext: { ...event.requestContext, authorizer: partnerId === null ? null : { partnerId, principalId: partnerId } },
  };
}

describe('the link broker', () => {
  let p: LambdaProject;
  let broker: ReturnType<typeof makeLinkBrokerHandler>;
  const manifests: Record<string, Manifest> = {};
  beforeAll(async () => {
    p = await lambdaProject();
    const runDeps = { ...p.deps, openEngine: async () => Object.assign(Object.create(p.deps.engine), { close: async () => undefined }) };
    for (const [feed, partner] of [
      ['daily', null],
      ['statements', 'acme'],
      ['statements', 'globex'],
    ] as const) {
      const outcome = await runSlot({ feed, partner, slot: new Date('2024-01-15T06:00:00Z') }, runDeps);
      expect(outcome.status).toBe('delivered');
      manifests[`${feed}/${partner}`] = await readJson<Manifest>(p.store, outcome.manifestKey!);
    }
    broker = makeLinkBrokerHandler(async () => p.deps);
  });
  afterAll(async () => p.close());

  it('gives a partner fresh links to the latest drop of a shared feed it receives', async () => {
    const res = await broker(fixture('apigateway', 'latest'));
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body);
    const m = manifests['daily/null'];
    expect(body).toMatchObject({ feed: 'daily', partner: 'acme', runId: m.runId, slot: '20240115T060000Z' });
    expect(body.files.map((f: { path: string }) => f.path)).toEqual(m.files.map((f) => f.path));
    expect(body.manifest.link.url).toMatch(/^file:.*manifest\.json$/);
    expect(body.files[0].link.url).toContain(m.files[0].path);
  });

  it("gives each partner of a per-partner feed its own drop of a slot, never the other's", async () => {
    const acme = JSON.parse((await broker(fixture('apigateway', 'slot'))).body);
    const globex = JSON.parse((await broker(withPartner(fixture('apigateway', 'slot'), 'globex'))).body);
    expect(acme.runId).toBe(manifests['statements/acme'].runId);
    expect(globex.runId).toBe(manifests['statements/globex'].runId);
    expect(acme.runId).not.toBe(globex.runId);
    expect(acme.files[0].link.url).toContain('partner=acme');
    expect(globex.files[0].link.url).toContain('partner=globex');
  });

  it('serves a given run of a slot, and 404 for a run the partner does not have', async () => {
    const own = manifests['statements/acme'].runId;
    const event = { ...fixture<ApiEvent>('apigateway', 'slot'), queryStringParameters: { run: own } };
    expect(JSON.parse((await broker(event)).body).runId).toBe(own);
    const other = { ...event, queryStringParameters: { run: manifests['statements/globex'].runId } };
    const res = await broker(other);
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('link');
  });

  it('answers 403 and no links for a feed the partner does not receive', async () => {
    const res = await broker(withPartner(fixture('apigateway', 'latest'), 'globex'));
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ error: 'partner globex does not receive feed daily' });
  });

  it('answers 404 and no links for an unknown feed', async () => {
    const res = await broker(withPartner(fixture('apigateway', 'latest'), 'acme', { feed: 'payroll' }));
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ error: 'no feed named "payroll"' });
  });

  it('answers 403 when the request carries no partner identity from the authorizer', async () => {
    const res = await broker(withPartner(fixture('apigateway', 'latest'), null));
    expect(res.statusCode).toBe(403);
    expect(res.body).not.toContain('link');
  });

  it('knows a partner calling the IAM routes by the AWS account that signed the request', async () => {
    const iamBroker = makeLinkBrokerHandler(async () => ({ ...p.deps, iamPartners: { '111122223333': 'globex' } }));
    const signed = (account: string): ApiEvent => ({
      ...fixture<ApiEvent>('apigateway', 'slot'),
      resource: '/iam/feeds/{feed}/slots/{slot}',
      requestContext: { requestId: 'r', authorizer: null, identity: { accountId: account, userArn: `arn:aws:sts::${account}:assumed-role/puller/s` } },
    });
    const own = await iamBroker(signed('111122223333'));
    expect(own.statusCode).toBe(200);
    expect(JSON.parse(own.body)).toMatchObject({ partner: 'globex', runId: manifests['statements/globex'].runId });
    const stranger = await iamBroker(signed('444455556666'));
    expect(stranger.statusCode).toBe(403);
    // An account is no identity on the key routes: only the authorizer's word counts there.
    const keyRoute = await iamBroker({ ...signed('111122223333'), resource: '/feeds/{feed}/slots/{slot}' });
    expect(keyRoute.statusCode).toBe(403);
  });

  it('answers 400 for a malformed slot and 404 for a slot without a drop', async () => {
    expect((await broker(withPartner(fixture('apigateway', 'slot'), 'acme', { slot: '2024-01-15' }))).statusCode).toBe(400);
    const empty = await broker(withPartner(fixture('apigateway', 'slot'), 'acme', { slot: '20240110T060000Z' }));
    expect(empty.statusCode).toBe(404);
    expect(JSON.parse(empty.body).error).toBe('slot 20240110T060000Z of statements has no delivered drop');
  });
});

describe('the partner authorizer', () => {
  const key = 's3cr3t-partner-key-0123456789';
  const hashes = async (id: string) => (id === 'acme' ? createHash('sha256').update(key).digest('hex') : undefined);
  const authorize = makePartnerAuthorizer(hashes);
  const event = () => fixture<TokenAuthorizerEvent>('apigateway', 'authorizer-token');

  it('allows a partner whose key hashes to the stored hash, and names it for the broker', async () => {
    const result = await authorize(event());
    expect(result.policyDocument.Statement[0]).toEqual({
      Action: 'execute-api:Invoke',
      Effect: 'Allow',
      Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/v1/*',
    });
    expect(result.context).toEqual({ partnerId: 'acme' });
  });

  it.each([
    ['a wrong key', 'Bearer acme.wrong-key-0123456789abcdef'],
    ['an unknown partner', `Bearer initech.${key}`],
    ['another partner presenting a known key', `Bearer globex.${key}`],
    ['no bearer', key],
    ['an empty token', ''],
  ])('denies %s, with no partner identity', async (_why, token) => {
    const result = await authorize({ ...event(), authorizationToken: token });
    expect(result.policyDocument.Statement[0].Effect).toBe('Deny');
    expect(result.context).toBeUndefined();
  });

  it("reads the hash from the partner's secret in Secrets Manager, once a minute at most", async () => {
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand, { SecretId: 'dropkit/partners/acme' }).resolves({ SecretString: JSON.stringify({ sha256: 'ab'.repeat(32) }) });
    sm.on(GetSecretValueCommand, { SecretId: 'dropkit/partners/nobody' }).rejects(new ResourceNotFoundException({ message: 'no such secret', $metadata: {} }));
    const read = secretsManagerHashes('dropkit/partners/', new SecretsManagerClient({ region: 'eu-west-1' }));
    expect(await read('acme')).toBe('ab'.repeat(32));
    expect(await read('acme')).toBe('ab'.repeat(32));
    expect(await read('nobody')).toBeUndefined();
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'dropkit/partners/acme' });
    sm.restore();
  });
});
