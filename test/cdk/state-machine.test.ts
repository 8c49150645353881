import { ExecutionError } from 'aws-local-stepfunctions';
import { latestKey } from '../../lib/core/layout';
import type { Manifest } from '../../lib/core/manifest';
import type { RunRecord } from '../../lib/core/run-record';
import { makeFailRunHandler } from '../../lambdas/fail-run';
import { makePlanHandler } from '../../lambdas/plan';
import { makePublishHandler } from '../../lambdas/publish';
import { listKeys, readJson } from '../helpers/local-run';
import { fixture, lambdaProject, LambdaProject } from '../lambdas/lambda-project';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HISTORY_LIMIT, partnerRunHistoryEvents } from '../../lib/cdk/pipeline-definition';
import { exampleStack, testApp } from './cdk-app';
import { allStates, deployedDefinition } from './state-machine-definition';
import { AthenaScript, executeDefinition, Handler, named } from './state-machine-harness';

let definition: Record<string, any>;
beforeAll(() => {
  definition = deployedDefinition(exampleStack());
});

function execute(p: LambdaProject, input: unknown, options: { athena?: AthenaScript; replace?: Record<string, Handler> } = {}) {
  return executeDefinition(definition, p.deps, input, options);
}

async function recordOf(p: LambdaProject, feed: string, partner: string | null, slot: string): Promise<RunRecord> {
  const keys = await listKeys(p.store, `drops/_runs/${feed}/${partner ? `partner=${partner}/` : ''}slot=${slot}/`);
  expect(keys).toHaveLength(1);
  return readJson<RunRecord>(p.store, keys[0]);
}

describe('the deployed state machine definition', () => {
  it('is JSONPath, with every step a Lambda or a native Athena/SNS task, Retry on Lambda steps and a Catch on each', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    const states = allStates(definition);
    expect(JSON.stringify(definition)).not.toMatch(/\{%|Arguments|"Output"/);
    expect(states.StartQueryWithParameters.Resource).toBe('arn:aws:states:::athena:startQueryExecution');
    expect(states.GetQuery.Resource).toBe('arn:aws:states:::athena:getQueryExecution');
    expect(states.StartQuery.Parameters).not.toHaveProperty(['ExecutionParameters.$']);
    expect(states.Partners.MaxConcurrency).toBe(4);
    for (const name of ['Plan', 'CompileStage', 'CompleteStage', 'Validate', 'Render', 'Publish', 'Notify', 'FailRun']) {
      expect(states[name].Resource).toMatch(/^arn:aws:lambda:.*:function:Exchange.*Function/);
      expect(states[name].Retry.map((r: any) => r.ErrorEquals).flat()).toEqual(
        expect.arrayContaining(['ThrottlingException', 'SlowDown', 'Lambda.TooManyRequestsException']),
      );
      expect(states[name].Retry.find((r: any) => r.ErrorEquals.includes('SlowDown'))).toMatchObject({ BackoffRate: 2, MaxAttempts: 4, JitterStrategy: 'FULL' });
    }
    for (const name of ['Plan', 'CompileStage', 'StartQuery', 'GetQuery', 'CompleteStage', 'Validate', 'RenderFormats', 'Publish', 'Notify', 'FailRun']) {
      expect(states[name].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
    }
  });
});

describe('the history budget of the deployed state machine', () => {
  it("runs each partner as a child execution (Distributed Map, Standard), so the parent's history does not grow with the partners", () => {
    const partners = allStates(definition).Partners;
    expect(partners.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(partners.ItemProcessor.States).toHaveProperty('Plan');
    expect(definition.States).not.toHaveProperty('Plan');
  });

  it("keeps one partner's worst case far under 25,000 events with an hour-long query at the default poll", () => {
    expect(
      partnerRunHistoryEvents({ pollInterval: Duration.seconds(10) }, Object.keys(allStates(definition).Partners.ItemProcessor.States).length),
    ).toBeLessThan(HISTORY_LIMIT / 4);
  });

  it('logs to a group under /aws/vendedlogs/states/ (no CloudWatch Logs resource policy to outgrow)', () => {
    const template = Template.fromStack(exampleStack());
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
    const groupId = machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(template.toJSON().Resources[groupId].Properties.LogGroupName).toMatch(/^\/aws\/vendedlogs\/states\/[a-z0-9-]+-pipeline$/);
  });

  it('refuses at synth a poll so frequent that an hour-long query would pass the limit, naming the fix', () => {
    expect(() => exampleStack(testApp(), { queryPollInterval: Duration.seconds(1) })).toThrow(/set queryPollInterval to at least 2 seconds/);
  });
});

describe('the state machine run in process with the step handlers', () => {
  let p: LambdaProject;
  beforeEach(async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    p = await lambdaProject();
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await p.close();
  });

  it('delivers a shared feed: plan, stage on Athena, validate, render each format, publish, notify', async () => {
    const { output, error, entered, queries } = await execute(p, fixture('scheduler', 'daily-slot'));
    expect(error).toBeUndefined();
    expect(output).toMatchObject({ feed: 'daily', statuses: ['delivered'], failing0: false, failing1: false });
    expect(entered).toEqual([
      'Defaults',
      'Partners',
      'Plan',
      'Planned?',
      'Begin',
      'CompileStage',
      'HasParameters?',
      'StartQueryWithParameters',
      'WaitForQuery',
      'GetQuery',
      'QueryDone?',
      'CompleteStage',
      'Validate',
      'Publishable?',
      'RenderFormats',
      'Render',
      'Render',
      'CheckApproval',
      'Held?',
      'ApprovalDecided',
      'Approved?',
      'Publish',
      'Push',
      'Pushed?',
      'Notify',
      'Delivered',
      'Summarize',
      'AllDelivered?',
      'Done',
    ]);
    expect(queries[0].WorkGroup).toMatch(/^ExchangeQueryWorkGroup/);
    const pointer = await readJson(p.store, latestKey({ prefix: 'drops', feed: 'daily', partner: null }));
    const manifest = await readJson<Manifest>(p.store, `drops/daily/slot=20240115T060000Z/run=${pointer.runId}/manifest.json`);
    expect(manifest.files.map((f) => f.format)).toEqual(['csv', 'parquet']);
    expect(manifest.query.bytesScanned).toBe(2048);
    expect(p.consumers.events.map((e) => e.type)).toEqual(['drop.delivered']);
    expect((await recordOf(p, 'daily', null, '20240115T060000Z')).status).toBe('delivered');
  });

  it('delivers each partner of a per-partner feed as its own run in the Map', async () => {
    const { output, error } = await execute(p, fixture('scheduler', 'statements-slot'));
    expect(error).toBeUndefined();
    expect(output.statuses).toEqual(['delivered', 'delivered']);
    for (const partner of ['acme', 'globex']) {
      expect(await readJson(p.store, latestKey({ prefix: 'drops', feed: 'statements', partner }))).toMatchObject({ partner });
    }
  });

  it('waits and looks again while the query is still running, then goes on when it is done', async () => {
    const { output, entered } = await execute(p, fixture('scheduler', 'daily-slot'), { athena: { states: ['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED'] } });
    expect(output.statuses).toEqual(['delivered']);
    expect(entered.filter((s) => s === 'WaitForQuery')).toHaveLength(4);
    expect(entered.filter((s) => s === 'GetQuery')).toHaveLength(4);
    expect(entered.filter((s) => s === 'CompleteStage')).toHaveLength(1);
  });

  it("fails the run with Athena's reason when the query failed: rolled back, recorded, operators told, execution failed", async () => {
    const reason = "COLUMN_NOT_FOUND: line 1:8: Column 'amout' cannot be resolved";
    const { error, entered } = await execute(p, fixture('scheduler', 'daily-slot'), { athena: { states: ['RUNNING', 'FAILED'], failWith: reason } });
    expect(error).toBeInstanceOf(ExecutionError);
    expect(String(error.message)).toContain('one or more runs of this slot failed');
    expect(entered).toEqual(expect.arrayContaining(['QueryFailed', 'StageFailed', 'FailRun', 'RolledBack?', 'RunFailed', 'SomeRunsFailed']));
    expect(entered).not.toContain('CompleteStage');
    const record = await recordOf(p, 'daily', null, '20240115T060000Z');
    expect(record).toMatchObject({ status: 'failed', step: 'stage', error: { name: 'QueryFailedError', message: `Athena query FAILED: ${reason}` } });
    expect(p.operators.events.map((e) => e.type)).toEqual(['run.failed']);
    expect(await listKeys(p.store, 'drops/daily/')).toEqual([]);
    expect(await listKeys(p.store, 'drops/_staging/')).toEqual([]);
  });

  it('stops on a failed validation before rendering: validation-failed recorded, nothing published', async () => {
    await p.close();
    p = await lambdaProject({ dupes: true });
    const { error, entered } = await execute(p, { ...fixture<object>('scheduler', 'daily-slot'), slot: '2024-01-16T06:00:00Z' });
    expect(String(error?.message)).toContain('one or more runs of this slot failed');
    expect(entered).toEqual(expect.arrayContaining(['Validate', 'Publishable?', 'ValidationFailed', 'ValidateFailed', 'FailRun', 'RunValidationFailed']));
    expect(entered).not.toContain('RenderFormats');
    const record = await recordOf(p, 'daily', null, '20240116T060000Z');
    expect(record.status).toBe('validation-failed');
    expect(record.error!.message).toMatch(/1 check failed, nothing was published:\n {2}- unique/);
    expect(await listKeys(p.store, 'drops/daily/')).toEqual([]);
  });

  it('rolls back a publish that failed before the manifest, after retrying a transient error', async () => {
    let calls = 0;
    const { error, entered, retried } = await execute(p, fixture('scheduler', 'daily-slot'), {
      replace: {
        Publish: async () => {
          calls++;
          throw named(
            calls === 1 ? 'SlowDown' : 'PublishConflictError',
            calls === 1 ? 'Please reduce your request rate.' : 'drops/daily/… was written by another attempt while this one published',
          );
        },
      },
    });
    expect(retried).toEqual(['Publish']);
    expect(calls).toBe(2);
    expect(String(error?.message)).toContain('one or more runs of this slot failed');
    expect(entered).toEqual(expect.arrayContaining(['PublishFailed', 'FailRun', 'RunFailed']));
    const record = await recordOf(p, 'daily', null, '20240115T060000Z');
    expect(record).toMatchObject({ status: 'failed', step: 'publish', error: { name: 'PublishConflictError' } });
    expect(await listKeys(p.store, 'drops/daily/')).toEqual([]);
  });

  it('treats a publish that failed after writing its manifest as delivered, and still sends the notice', async () => {
    const publish = makePublishHandler(async () => p.deps);
    const { output, error, entered } = await execute(p, fixture('scheduler', 'daily-slot'), {
      replace: {
        Publish: async (event) => {
          await publish(event);
          throw named('States.Timeout', 'the function timed out after its commit point');
        },
      },
    });
    expect(error).toBeUndefined();
    expect(output.statuses).toEqual(['delivered']);
    expect(entered).toEqual(expect.arrayContaining(['PublishFailed', 'FailRun', 'RolledBack?', 'NotifyRecovered', 'Delivered']));
    expect(p.consumers.events.map((e) => e.type)).toEqual(['drop.delivered']);
    expect(p.operators.events).toEqual([]);
  });

  it('keeps a delivered drop when the notice cannot be sent, and alerts the operators', async () => {
    const { output, error, entered, alerts, retried } = await execute(p, fixture('scheduler', 'daily-slot'), {
      replace: {
        Notify: async () => {
          throw named('InternalError', 'S3 had a blip');
        },
      },
    });
    expect(error).toBeUndefined();
    expect(output.statuses).toEqual(['delivered']);
    // MaxAttempts 4: four more tries after the first.
    expect(retried).toEqual(['Notify', 'Notify', 'Notify', 'Notify']);
    expect(entered).toEqual(expect.arrayContaining(['Notify', 'NotifyFailedAlert', 'Delivered']));
    expect(entered).not.toContain('FailRun');
    expect(alerts).toHaveLength(1);
    // Step Functions' SNS integration sends a JSON object Message as its JSON text.
    expect(alerts[0].Message).toMatchObject({
      alert: 'dropkit: a drop was delivered but its notice was not sent',
      feed: 'daily',
      error: { Error: 'InternalError' },
    });
    expect(await readJson(p.store, latestKey({ prefix: 'drops', feed: 'daily', partner: null }))).toMatchObject({ feed: 'daily' });
  });

  it('ends a second start of a running slot as busy, touching nothing, and a start of a delivered slot as already delivered', async () => {
    const plan = makePlanHandler(async () => p.deps);
    const held: any = await plan({ feed: 'daily', partner: null, slot: '2024-01-15T06:00:00Z' });
    const busy = await execute(p, fixture('scheduler', 'daily-slot'));
    expect(busy.error).toBeUndefined();
    expect(busy.output.statuses).toEqual(['busy']);
    expect(busy.entered).not.toContain('CompileStage');
    await makeFailRunHandler(async () => p.deps)({ state: held.state, step: 'plan', error: { Error: 'Test', Cause: 'release' } });

    const first = await execute(p, fixture('scheduler', 'daily-slot'));
    expect(first.output.statuses).toEqual(['delivered']);
    const again = await execute(p, fixture('scheduler', 'daily-slot'));
    expect(again.output.statuses).toEqual(['already-delivered']);
    expect(p.consumers.events).toHaveLength(1);
  });

  it('delivers a new revision when the execution input says rerun: true, and only then', async () => {
    const first = await execute(p, fixture('scheduler', 'statements-slot'));
    expect(first.output.statuses).toEqual(['delivered', 'delivered']);
    const again = await execute(p, fixture('scheduler', 'statements-slot'));
    expect(again.output.statuses).toEqual(['already-delivered', 'already-delivered']);
    const rerun = await execute(p, { ...fixture<object>('scheduler', 'statements-slot'), rerun: true });
    expect(rerun.error).toBeUndefined();
    expect(rerun.output.statuses).toEqual(['delivered', 'delivered']);
    for (const partner of ['acme', 'globex']) {
      expect(await readJson(p.store, latestKey({ prefix: 'drops', feed: 'statements', partner }))).toMatchObject({ partner, revision: 2 });
    }
    expect(
      p.consumers.events
        .filter((e) => e.type === 'data.update')
        .map((e) => e.partner)
        .sort(),
    ).toEqual(['acme', 'globex']);
  });
});
