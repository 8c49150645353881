import 'aws-sdk-client-mock-jest';
import { mockClient } from 'aws-sdk-client-mock';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Template } from 'aws-cdk-lib/assertions';
import { makeApproveHandler } from '../../lambdas/approve';
import { ApiEvent, makeLinkBrokerHandler, sfnTaskResponder } from '../../lambdas/link-broker';
import { fixedClock } from '../../lib/core/ports/clock';
import { runSlot } from '../../lib/runner/run-slot';
import { exampleStack, templateOf } from '../cdk/cdk-app';
import { grantsOf, lines } from '../cdk/iam';
import { allStates, deployedDefinition } from '../cdk/state-machine-definition';
import { listKeys, readJson } from '../helpers/local-run';
import { lambdaProject, LambdaProject } from '../lambdas/lambda-project';

const SLOT = '20240115T060000Z';
const APPROVAL_YAML = 'approval:\n  when: [first]\n  approvers: [owner@shop.example]\n  timeout: PT8H\ncolumns:\n  label:\n    pii: true\n';
const HOLD_KEY = `drops/_approvals/daily/slot=${SLOT}.json`;
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAA-token';

function decision(userArn: string | null, body: unknown, extra: Partial<ApiEvent> = {}): ApiEvent {
  return {
    httpMethod: 'POST',
    resource: '/approvals/{feed}/slots/{slot}',
    pathParameters: { feed: 'daily', slot: SLOT },
    body: JSON.stringify(body),
    requestContext: { requestId: 'r', identity: userArn ? { accountId: '123456789012', userArn } : null },
    ...extra,
  };
}
const OWNER = 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DataOwner_0123/owner@shop.example';

/**
 * The approver API of the link broker over the SDK client (aws-sdk-client-mock for Step Functions:
 * moto does not run task tokens): a held drop, its token kept by the approve Lambda, and the
 * decision that resumes the execution.
 */
describe('the link broker approver API', () => {
  const sfn = mockClient(SFNClient);
  let p: LambdaProject;
  let broker: ReturnType<typeof makeLinkBrokerHandler>;
  const at = (now: string) =>
    makeLinkBrokerHandler(async () => ({
      ...p.deps,
      approvals: { clock: fixedClock(now), sendTaskSuccess: sfnTaskResponder(new SFNClient({ region: 'eu-west-1' })) },
    }));

  beforeEach(async () => {
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    p = await lambdaProject({ dailyExtra: APPROVAL_YAML, now: '2024-01-15T07:00:00Z' });
    const deps = { ...p.deps, openEngine: async () => Object.assign(Object.create(p.deps.engine), { close: async () => undefined }) };
    const held = await runSlot({ feed: 'daily', partner: null, slot: new Date('2024-01-15T06:00:00Z') }, deps);
    expect(held.status).toBe('awaiting-approval');
    // What AwaitApproval's invocation does on AWS: the token kept with the hold.
    const hold = await readJson(p.store, HOLD_KEY);
    await makeApproveHandler(async () => p.deps)({ state: hold.state, taskToken: TOKEN });
    broker = at('2024-01-15T08:00:00Z');
  });
  afterEach(async () => p.close());
  afterAll(() => sfn.restore());

  it('resumes the waiting execution with the decided approval (SendTaskSuccess), once', async () => {
    const answer = await broker(decision(OWNER, { decision: 'approve', reason: 'profile looks right' }));
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ decision: 'approved', by: 'owner@shop.example', at: '2024-01-15T08:00:00.000Z' });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const sent = sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(sent.taskToken).toBe(TOKEN);
    expect(JSON.parse(sent.output!)).toMatchObject({
      outcome: 'approved',
      decision: { by: 'owner@shop.example', at: '2024-01-15T08:00:00.000Z', reason: 'profile looks right' },
    });
    expect(await readJson(p.store, HOLD_KEY)).toMatchObject({ status: 'approved' });
    const again = await broker(decision(OWNER, { decision: 'reject', reason: 'changed my mind' }));
    expect(again.statusCode).toBe(409);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  it('passes a rejection on as the decided approval', async () => {
    const answer = await broker(decision(OWNER, { decision: 'reject', reason: 'amounts doubled' }));
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!)).toMatchObject({ outcome: 'rejected' });
  });

  it('refuses partners, strangers and bad requests, and sends nothing', async () => {
    // A partner key: the authorizer's partnerId is no approver identity.
    const partner = await broker(decision(null, { decision: 'approve', reason: 'x' }, { requestContext: { authorizer: { partnerId: 'acme' } } }));
    expect(partner.statusCode).toBe(403);
    const stranger = await broker(decision('arn:aws:sts::123456789012:assumed-role/Dev/intern@shop.example', { decision: 'approve', reason: 'x' }));
    expect([stranger.statusCode, JSON.parse(stranger.body).error]).toEqual([403, 'intern@shop.example is not an approver of daily']);
    expect((await broker(decision(OWNER, { decision: 'maybe', reason: 'x' }))).statusCode).toBe(400);
    expect((await broker(decision(OWNER, { decision: 'approve' }))).statusCode).toBe(400);
    expect((await broker(decision(OWNER, { decision: 'approve', reason: 'x' }, { pathParameters: { feed: 'statements', slot: SLOT } }))).statusCode).toBe(404);
    expect((await broker(decision(OWNER, { decision: 'approve', reason: 'x' }, { httpMethod: 'DELETE' }))).statusCode).toBe(405);
    // Past the deadline the state machine's own timeout decides.
    const late = await at('2024-01-15T15:00:00Z')(decision(OWNER, { decision: 'approve', reason: 'x' }));
    expect(late.statusCode).toBe(409);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    expect(await readJson(p.store, HOLD_KEY)).toMatchObject({ status: 'held' });
  });

  const look = (userArn: string | null, extra: Partial<ApiEvent> = {}) => decision(userArn, undefined, { httpMethod: 'GET', body: null, ...extra });

  it('shows the held drop to its approvers (GET): status, reasons, deadline, profile and the preview with pii columns redacted', async () => {
    const answer = await broker(look(OWNER));
    expect(answer.statusCode).toBe(200);
    const view = JSON.parse(answer.body);
    expect(view).toMatchObject({
      feed: 'daily',
      partner: null,
      slot: SLOT,
      status: 'held',
      reasons: [expect.stringMatching(/^first: no earlier drop of daily/)],
      approvers: ['owner@shop.example'],
      heldAt: '2024-01-15T07:00:00.000Z',
      deadline: '2024-01-15T15:00:00.000Z',
      decision: null,
      rowCount: 3,
    });
    expect(view.schema.map((c: { name: string }) => c.name)).toEqual(['id', 'label', 'amount', 'happened_at']);
    expect(view.profile.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'label', 'amount', 'happened_at']);
    expect(view.preview.columns).toEqual(['id', 'label', 'amount', 'happened_at']);
    expect(view.preview.redacted).toEqual(['label']);
    expect(view.preview.rows.map((r: string[]) => r[1])).toEqual(['▒▒▒ pii', '▒▒▒ pii', '▒▒▒ pii']);
    expect(view.preview.rows.map((r: string[]) => r[0])).toEqual(['2', '3', '4']);
    // Looking decides nothing.
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    expect(await readJson(p.store, HOLD_KEY)).toMatchObject({ status: 'held' });
    // After the decision it shows the decision, and still the preview kept with the hold.
    await broker(decision(OWNER, { decision: 'approve', reason: 'profile looks right' }));
    const after = JSON.parse((await broker(look(OWNER))).body);
    expect(after).toMatchObject({ status: 'approved', decision: { by: 'owner@shop.example', reason: 'profile looks right' } });
    expect(after.preview.redacted).toEqual(['label']);
  });

  it('shows a held drop to nobody else: partner keys, other identities, and slots never held', async () => {
    const partner = await broker(look(null, { requestContext: { authorizer: { partnerId: 'acme' } } }));
    expect(partner.statusCode).toBe(403);
    const stranger = await broker(look('arn:aws:sts::123456789012:assumed-role/Dev/intern@shop.example'));
    expect([stranger.statusCode, JSON.parse(stranger.body)]).toEqual([403, { error: 'intern@shop.example is not an approver of daily' }]);
    const never = await broker(look(OWNER, { pathParameters: { feed: 'daily', slot: '20240116T060000Z' } }));
    expect([never.statusCode, JSON.parse(never.body).error]).toEqual([404, 'no drop of daily slot 20240116T060000Z is held for approval']);
    expect((await broker(look(OWNER, { pathParameters: { feed: 'statements', slot: SLOT } }))).statusCode).toBe(404);
    expect((await broker(look(OWNER, { queryStringParameters: { partner: 'acme' } }))).statusCode).toBe(400);
  });

  it('has no manifest for a held drop, so no partner can get a link to it', async () => {
    expect(await listKeys(p.store, 'drops/daily/')).toEqual([]);
    const links = await broker({
      httpMethod: 'GET',
      resource: '/feeds/{feed}/slots/{slot}',
      pathParameters: { feed: 'daily', slot: SLOT },
      requestContext: { authorizer: { partnerId: 'acme' } },
    });
    expect(links.statusCode).toBe(404);
    const latest = await broker({
      httpMethod: 'GET',
      resource: '/feeds/{feed}/latest',
      pathParameters: { feed: 'daily' },
      requestContext: { authorizer: { partnerId: 'acme' } },
    });
    expect(latest.statusCode).toBe(404);
  });
});

describe('the approve node in the deployed stack', () => {
  let template: Template;
  let states: Record<string, any>;
  beforeAll(() => {
    const stack = exampleStack();
    template = templateOf(stack);
    states = allStates(deployedDefinition(stack));
  });

  it('waits for the decision with a task token, as long as the feed allows, and expires the hold on States.Timeout', () => {
    const wait = states.AwaitApproval;
    expect(wait).toMatchObject({
      Type: 'Task',
      Resource: expect.stringMatching(/:states:::lambda:invoke\.waitForTaskToken$/),
      TimeoutSecondsPath: '$.state.approval.timeoutSeconds',
      ResultPath: '$.state.approval',
      Parameters: { Payload: { 'state.$': '$.state', 'taskToken.$': '$$.Task.Token' } },
      Next: 'ApprovalDecided',
    });
    expect(wait.Catch[0]).toEqual({ ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'ExpireApproval' });
    expect(wait.Catch[wait.Catch.length - 1]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'ApproveFailed' });
    expect(states['Held?'].Choices).toEqual([{ Variable: '$.state.approval.outcome', StringEquals: 'held', Next: 'AwaitApproval' }]);
    expect(states['Approved?'].Choices.map((c: any) => [c.StringEquals, c.Next])).toEqual([
      ['not-required', 'Publish'],
      ['approved', 'Publish'],
      ['rejected', 'ApprovalRejected'],
      ['timed-out', 'ApprovalTimedOut'],
    ]);
    expect(states.ApprovalRejected).toMatchObject({ Result: { Error: 'ApprovalRejectedError' }, Next: 'ApproveFailed' });
  });

  it('lets the broker answer task tokens of this state machine only, and read and write the holds', () => {
    const g = grantsOf(template, 'ExchangeLinkBrokerLinkBrokerFunctionRole');
    expect(lines(g, 'states:')).toEqual([
      expect.stringMatching(/^states:SendTaskFailure <ExchangePipelineStateMachine[0-9A-F]+>$/),
      expect.stringMatching(/^states:SendTaskHeartbeat <ExchangePipelineStateMachine[0-9A-F]+>$/),
      expect.stringMatching(/^states:SendTaskSuccess <ExchangePipelineStateMachine[0-9A-F]+>$/),
    ]);
    expect(lines(g, 's3:PutObject')).toEqual([expect.stringMatching(/^s3:PutObject .*\/drops\/_approvals\/\*$/)]);
  });

  it('serves decisions only to SigV4 callers (IAM auth), without partner keys', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map((m: any) => m.Properties);
    const post = methods.filter((m) => m.HttpMethod === 'POST');
    expect(post).toHaveLength(1);
    expect(post[0]).toMatchObject({ AuthorizationType: 'AWS_IAM', ApiKeyRequired: false });
    expect(post[0].AuthorizerId).toBeUndefined();
  });

  it('serves the held drop (GET) on the same resource, with IAM auth only', () => {
    const resources = template.findResources('AWS::ApiGateway::Resource');
    const slotOfApprovals = Object.entries(resources).find(
      ([, r]: [string, any]) => r.Properties.PathPart === '{slot}' && /approvals/i.test(JSON.stringify(r.Properties.ParentId)),
    )![0];
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map((m: any) => m.Properties);
    const onHold = methods.filter((m) => m.ResourceId?.Ref === slotOfApprovals);
    expect(onHold.map((m) => m.HttpMethod).sort()).toEqual(['GET', 'POST']);
    for (const m of onHold) {
      expect(m).toMatchObject({ AuthorizationType: 'AWS_IAM', ApiKeyRequired: false });
      expect(m.AuthorizerId).toBeUndefined();
    }
  });
});
