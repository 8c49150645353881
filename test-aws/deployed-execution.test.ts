import { createHash } from 'node:crypto';
import { GetQueryExecutionCommand } from '@aws-sdk/client-athena';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Manifest } from '../lib/core/manifest';
import { manifestProblems } from '../lib/core/manifest-schema';
import type { RunState } from '../lib/core/steps/run-state';
import { makeCompileStageHandler } from '../lambdas/compile-stage';
import { makeCompleteStageHandler } from '../lambdas/complete-stage';
import { makeFailRunHandler } from '../lambdas/fail-run';
import { makeLinkBrokerHandler } from '../lambdas/link-broker';
import { makeNotifyHandler } from '../lambdas/notify';
import { makePartnerAuthorizer, secretsManagerHashes } from '../lambdas/partner-authorizer';
import { makePlanHandler } from '../lambdas/plan';
import { makePublishHandler } from '../lambdas/publish';
import { makeRenderHandler } from '../lambdas/render';
import { makeSlaWatchHandler } from '../lambdas/sla-watch';
import { makeValidateHandler } from '../lambdas/validate';
import { readJson } from '../test/helpers/local-run';
import { DAILY_SQL, dailyFeed, eventsSelect, tempProject, TempProject } from '../test/helpers/temp-project';
import { STATEMENTS_FEED, STATEMENTS_SQL } from '../test/lambdas/lambda-project';
import { audit } from './helpers/iam-audit';
import { Deployment, FunctionName } from './helpers/deployment';
import { motoClientConfig } from './helpers/moto';
import { urllibGet } from './helpers/python';
import { createQueue, drain, Queue, subscribeQueue } from './helpers/queues';

/** Roles whose calls are audited: each function's, and the state machine's own (its Athena tasks). */
const ROLES = [
  'PlanFunction',
  'CompileStageFunction',
  'CompleteStageFunction',
  'ValidateFunction',
  'RenderFunction',
  'PublishFunction',
  'NotifyFunction',
  'FailRunFunction',
  'SlaWatchFunction',
  'LinkBrokerFunction',
  'PartnerAuthorizerFunction',
  'Pipeline',
] as const;

const SLOT = '2024-01-15T06:00:00Z';

/**
 * The construct's Lambda handlers driven in the order a deployed execution calls them, with the
 * events the state machine builds, the environment the template gives each function, real SDK
 * clients on moto (S3, SNS, SQS, EventBridge, Secrets Manager) and the fake Athena; every call each
 * makes is checked against its role's synthesized policy.
 */
describe('a deployed execution on moto, each call checked against its role', () => {
  let project: TempProject;
  let d: Deployment;
  let queues: Record<'acme' | 'globex' | 'ops', Queue>;

  beforeAll(async () => {
    // Powertools prints metrics (EMF) through console.log; the metrics are tested apart.
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    project = tempProject({
      'dropkit.yaml': 'name: test\nprefix: drops\nsources:\n  events: data/events.parquet\n',
      'feeds/daily.yaml': dailyFeed('daily', 'partners:\n  - id: acme\n'),
      'feeds/daily.sql': DAILY_SQL,
      'feeds/statements.yaml': STATEMENTS_FEED,
      'feeds/statements.sql': STATEMENTS_SQL,
      'feeds/broken.yaml': dailyFeed('broken'),
      'feeds/broken.sql': DAILY_SQL.replace('FROM events', 'FROM dupes'),
      'feeds/missing.yaml': dailyFeed('missing'),
      'feeds/missing.sql': DAILY_SQL.replace('FROM events', 'FROM no_such_table'),
    });
    d = await Deployment.deploy(project.dir, { events: eventsSelect(), dupes: `${eventsSelect()} UNION ALL ${eventsSelect()}` });
    queues = { acme: await createQueue('acme'), globex: await createQueue('globex'), ops: await createQueue('ops') };
    // A per-partner feed's topic carries every partner's drops: each partner filters on its id.
    for (const p of ['acme', 'globex'] as const) await subscribeQueue(d.feedTopicArnPrefix + 'statements', queues[p], { partner: [p] });
    // A shared feed's notice names no partner (no `partner` attribute): its partner subscribes unfiltered.
    await subscribeQueue(d.feedTopicArnPrefix + 'daily', queues.acme);
    await subscribeQueue(d.opsTopicArn, queues.ops);
  });

  afterAll(async () => {
    const grants = new Map(ROLES.map((r) => [r, d.grants(r)]));
    const { unused } = audit(d.recorder.calls, grants);
    // Listed, not failed: a grant the happy and failing paths here never use may serve a retry or repair.
    console.info(`grants no call used (${unused.length}):\n${unused.join('\n')}`);
    await d?.close();
    project?.cleanup();
  });

  const handler = <T>(fn: FunctionName, make: (deps: () => Promise<any>) => (event: any) => Promise<T>) => {
    const h = make(async () => d.depsOf(fn));
    return (event: unknown) => d.recorder.as(`${fn}Function`, () => h(event));
  };

  function handlers() {
    return {
      plan: handler('Plan', makePlanHandler),
      compileStage: handler('CompileStage', makeCompileStageHandler),
      completeStage: handler('CompleteStage', makeCompleteStageHandler),
      validate: handler('Validate', makeValidateHandler),
      render: handler('Render', makeRenderHandler),
      publish: handler('Publish', makePublishHandler),
      notify: handler('Notify', makeNotifyHandler),
      failRun: handler('FailRun', makeFailRunHandler),
      slaWatch: handler('SlaWatch', makeSlaWatchHandler),
    };
  }

  /** One partner's branch of the state machine, from Plan to Notify (or to FailRun on a failed check). */
  async function execute(feed: string, partner: string | null): Promise<{ status: string; manifestKey?: string; failed?: any }> {
    const h = handlers();
    const planned: any = await h.plan({ feed, partner, slot: SLOT });
    expect(planned.status).toBe('planned');
    let state: RunState = planned.state;
    const compiled: any = await h.compileStage({ state });
    const query = await d.recorder.as('Pipeline', async () => {
      const id = await d.startQuery(compiled);
      for (;;) {
        const out = await d.athenaClient().send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
        if (out.QueryExecution?.Status?.State !== 'RUNNING' && out.QueryExecution?.Status?.State !== 'QUEUED') return out;
      }
    });
    if (query.QueryExecution?.Status?.State !== 'SUCCEEDED') {
      // The QueryFailed Pass state: the query's Status is the cause.
      const failed: any = await h.failRun({ state, step: 'stage', error: { Error: 'QueryFailedError', Cause: query.QueryExecution?.Status } });
      return { status: 'failed', failed };
    }
    state = (await h.completeStage({ state, query: { QueryExecution: query.QueryExecution } })) as RunState;
    state = (await h.validate({ state })) as RunState;
    if (state.validation?.status === 'fail') {
      const failed: any = await h.failRun({
        state,
        step: 'validate',
        error: { Error: 'ValidationFailedError', Cause: 'an error-severity check failed; nothing is published' },
      });
      return { status: 'failed', failed };
    }
    const rendered = [];
    for (const format of planned.formats) rendered.push(await h.render({ state, format }));
    const published: any = await h.publish({ state, rendered });
    expect(published.status).toBe('delivered');
    const notice: any = await h.notify({ ref: published.ref, attemptId: state.attemptId });
    expect(notice.leaseReleased).toBe(true);
    return { status: 'delivered', manifestKey: published.ref.manifestKey };
  }

  async function verifyDrop(manifestKey: string): Promise<Manifest> {
    const store = d.depsOf('Publish').store;
    const m = await readJson<Manifest>(store, manifestKey);
    expect(manifestProblems(m)).toEqual([]);
    const folder = manifestKey.slice(0, -'manifest.json'.length);
    for (const f of m.files) {
      const body = (await store.get(folder + f.path))!.body;
      expect(createHash('sha256').update(body).digest('hex')).toBe(f.sha256);
    }
    return m;
  }

  it('delivers a shared feed from plan to notify; its partner hears of it on the feed topic', async () => {
    const run = await execute('daily', null);
    const m = await verifyDrop(run.manifestKey!);
    expect(m.rowCount).toBe(3);
    expect(m.files.map((f) => f.format)).toEqual(['csv', 'parquet']);
    const heard = await drain(queues.acme);
    expect(heard.map((e) => [e.type, e.feed])).toEqual([['drop.delivered', 'daily']]);
    // The link in the notice downloads the manifest byte for byte, fetched as a partner would.
    const manifestBytes = (await d.depsOf('Publish').store.get(run.manifestKey!))!.body;
    expect((await urllibGet(heard[0].manifest.link.url)).equals(manifestBytes)).toBe(true);
  });

  it("delivers a per-partner feed for each partner; each partner's queue gets its own drop only", async () => {
    for (const partner of ['acme', 'globex']) {
      const run = await execute('statements', partner);
      expect((await verifyDrop(run.manifestKey!)).partner).toBe(partner);
    }
    const [acme, globex] = [await drain(queues.acme), await drain(queues.globex)];
    expect(acme.map((e) => [e.type, e.feed, e.partner])).toEqual([['drop.delivered', 'statements', 'acme']]);
    expect(globex.map((e) => [e.type, e.feed, e.partner])).toEqual([['drop.delivered', 'statements', 'globex']]);
  });

  it('sends a failed check to fail-run: nothing published, the operators told on their topic', async () => {
    const run = await execute('broken', null);
    expect(run.status).toBe('failed');
    expect(run.failed.status).toBe('validation-failed');
    const store = d.depsOf('FailRun').store;
    const keys: string[] = [];
    for await (const o of store.list('drops/broken/')) keys.push(o.key);
    expect(keys.filter((k) => k.endsWith('manifest.json'))).toEqual([]);
    const ops = await drain(queues.ops);
    expect(ops.map((e) => [e.type, e.feed])).toEqual(expect.arrayContaining([['validation.failed', 'broken']]));
  });

  it("sends a failed Athena stage to fail-run with Athena's reason; the operators are told", async () => {
    const run = await execute('missing', null);
    expect(run.status).toBe('failed');
    expect(run.failed.error.message).toMatch(/^Athena query FAILED: .*no_such_table/i);
    const ops = await drain(queues.ops);
    const failed = ops.find((e) => e.type === 'run.failed' && e.feed === 'missing');
    expect(failed?.error).toMatchObject({ step: 'stage', name: 'QueryFailedError' });
  });

  it('the SLA watch finds the slot no run delivered and tells its partners and operators once', async () => {
    const watch = handlers().slaWatch;
    const first: any = await watch({ at: '2024-01-16T12:00:00Z', lookBack: 'P1D' });
    expect(first.notices.length).toBeGreaterThan(0);
    const again: any = await watch({ at: '2024-01-16T12:00:00Z', lookBack: 'P1D' });
    expect(again.notices).toEqual([]);
    const told = [...(await drain(queues.acme)), ...(await drain(queues.globex))];
    expect(told.every((e) => e.type === 'data.delay')).toBe(true);
    expect(told.length).toBeGreaterThan(0);
  });

  it('the authorizer reads the partner key hash from Secrets Manager; the broker hands that partner fresh links', async () => {
    const env = d.env('PartnerAuthorizer');
    const prefix = env.DROPKIT_PARTNER_SECRET_PREFIX!;
    const key = 'acme-partner-key-0123456789abcdef';
    const sm = new SecretsManagerClient(motoClientConfig());
    await sm.send(new CreateSecretCommand({ Name: `${prefix}acme`, SecretString: JSON.stringify({ sha256: createHash('sha256').update(key).digest('hex') }) }));
    const authorize = makePartnerAuthorizer(secretsManagerHashes(prefix, new SecretsManagerClient({})));
    const methodArn = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/feeds/statements/latest';
    const as = <T>(fn: () => Promise<T>) => d.recorder.as('PartnerAuthorizerFunction', fn);
    const allowed = await as(() => authorize({ type: 'TOKEN', authorizationToken: `Bearer acme.${key}`, methodArn }));
    expect(allowed).toMatchObject({ principalId: 'acme', context: { partnerId: 'acme' } });
    const denied = await as(() => authorize({ type: 'TOKEN', authorizationToken: `Bearer globex.${key}`, methodArn }));
    expect(denied.policyDocument.Statement[0]!.Effect).toBe('Deny');

    const broker = handler('LinkBroker', makeLinkBrokerHandler);
    const answer: any = await broker({
      resource: '/feeds/{feed}/latest',
      path: '/feeds/statements/latest',
      httpMethod: 'GET',
      pathParameters: { feed: 'statements' },
      requestContext: { requestId: 'r-1', authorizer: allowed.context },
    });
    expect(answer.statusCode).toBe(200);
    const body = JSON.parse(answer.body);
    for (const f of body.files) {
      const bytes = await urllibGet(f.link.url);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
    expect(JSON.parse((await urllibGet(body.manifest.link.url)).toString()).partner).toBe('acme');
  });

  it('made no call its role would be denied', () => {
    const grants = new Map(ROLES.map((r) => [r, d.grants(r)]));
    const { denied } = audit(d.recorder.calls, grants);
    expect(d.recorder.calls.length).toBeGreaterThan(50);
    expect(denied).toEqual([]);
  });
});
