import { latestKey, leaseKey, runRecordKey } from '../../lib/core/layout';
import type { Lease } from '../../lib/core/lease';
import type { Manifest } from '../../lib/core/manifest';
import type { RunRecord } from '../../lib/core/run-record';
import type { RunState } from '../../lib/core/steps/run-state';
import { makeCompileStageHandler } from '../../lambdas/compile-stage';
import { makeCompleteStageHandler } from '../../lambdas/complete-stage';
import { makeFailRunHandler } from '../../lambdas/fail-run';
import { makeNotifyHandler } from '../../lambdas/notify';
import { makePlanHandler } from '../../lambdas/plan';
import { makePublishHandler } from '../../lambdas/publish';
import { makeRenderHandler } from '../../lambdas/render';
import { makeValidateHandler } from '../../lambdas/validate';
import type { LambdaDeps } from '../../lambdas/runtime';
import type { AthenaQueryExecution } from '../../lambdas/step-events';
import { logger } from '../../lambdas/observability';
import { listKeys, readJson } from '../helpers/local-run';
import { fixture, lambdaProject, LambdaProject } from './lambda-project';

function handlers(deps: LambdaDeps) {
  const get = async () => deps;
  return {
    plan: makePlanHandler(get),
    compileStage: makeCompileStageHandler(get),
    completeStage: makeCompleteStageHandler(get),
    validate: makeValidateHandler(get),
    render: makeRenderHandler(get),
    publish: makePublishHandler(get),
    notify: makeNotifyHandler(get),
    failRun: makeFailRunHandler(get),
  };
}

/** Stands in for Athena: runs the compiled statement on the test engine, answers as GetQueryExecution does. */
async function runStatement(
  p: LambdaProject,
  compiled: { statement: Parameters<LambdaDeps['engine']['execute']>[0] },
): Promise<{ QueryExecution: AthenaQueryExecution }> {
  const execution = await p.deps.engine.execute(compiled.statement);
  const answer = fixture('stepfunctions', 'athena-query-succeeded');
  return { QueryExecution: { ...answer.QueryExecution, QueryExecutionId: execution.executionId ?? answer.QueryExecution.QueryExecutionId } };
}

/** The state machine's path, step by step through the handlers, up to the step named. */
async function runUpTo(p: LambdaProject, h: ReturnType<typeof handlers>, planEvent: object, last: 'stage' | 'validate' | 'render' | 'publish' | 'notify') {
  const planned: any = await h.plan(planEvent as any);
  expect(planned.status).toBe('planned');
  let state: RunState = planned.state;
  const compiled = await h.compileStage({ state });
  state = await h.completeStage({ state, query: await runStatement(p, compiled) });
  if (last === 'stage') return { planned, state };
  state = await h.validate({ state });
  if (last === 'validate') return { planned, state };
  const rendered = [];
  for (const format of planned.formats) rendered.push(await h.render({ state, format }));
  if (last === 'render') return { planned, state, rendered };
  const published = await h.publish({ state, rendered });
  if (last === 'publish') return { planned, state, rendered, published };
  const notice = await h.notify({ ref: published.ref, attemptId: state.attemptId });
  return { planned, state, rendered, published, notice };
}

describe('the Lambda step handlers, invoked with fixture events', () => {
  let p: LambdaProject;
  let h: ReturnType<typeof handlers>;
  let log: jest.SpyInstance;
  beforeEach(async () => {
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    p = await lambdaProject();
    h = handlers(p.deps);
  });
  afterEach(async () => {
    log.mockRestore();
    await p.close();
  });

  it('deliver a slot from the plan event to the notice, with Athena statistics in the manifest and the lease released', async () => {
    const { planned, published, notice } = await runUpTo(p, h, fixture('stepfunctions', 'plan'), 'notify');
    expect(planned.formats).toEqual(['csv', 'parquet']);
    expect(published!.status).toBe('delivered');
    const manifest = await readJson<Manifest>(p.store, published!.ref.manifestKey);
    expect(manifest.rowCount).toBe(3);
    expect(manifest.files.map((f) => f.format)).toEqual(['csv', 'parquet']);
    // complete-stage turned Athena's GetQueryExecution answer into the run's execution.
    expect(manifest.query.bytesScanned).toBe(10485760);
    expect(published!.ref.manifestKey).toMatch(/^drops\/daily\/slot=20240115T060000Z\/run=.*\/manifest\.json$/);
    expect(notice!.status).toBe('sent');
    expect(notice!.leaseReleased).toBe(true);
    expect(p.consumers.events.map((e) => e.type)).toEqual(['drop.delivered']);
    const lease = await readJson<Lease>(p.store, leaseKey({ prefix: 'drops', feed: 'daily', partner: null }, '20240115T060000Z'));
    expect(lease.released).toBe(true);
    expect(await readJson(p.store, latestKey({ prefix: 'drops', feed: 'daily', partner: null }))).toMatchObject({ runId: manifest.runId });
  });

  it('log the feed and the run id on every line of a step, failures included', async () => {
    const printed: string[] = [];
    const info = jest.spyOn(console, 'info').mockImplementation((line: string) => void printed.push(line));
    const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
    logger.setLogLevel('INFO');
    try {
      const planned: any = await h.plan(fixture('stepfunctions', 'plan'));
      await h.compileStage({ state: planned.state });
      await expect(h.render({ state: planned.state, format: 'csv' })).rejects.toThrow('render needs staged');
      const lines = printed.map((l) => JSON.parse(l));
      expect(lines.map((l) => l.message)).toEqual([
        'plan started',
        'plan finished',
        'compile-stage started',
        'compile-stage finished',
        'render started',
        'render failed',
      ]);
      for (const l of lines) expect(l).toMatchObject({ feed: 'daily', service: 'dropkit' });
      // The plan learns the run id as it plans: from its last line on, every line has it.
      for (const l of lines.slice(1)) expect(l.runId).toBe(planned.state.plan.runId);
      expect(lines[5]).toMatchObject({ level: 'ERROR', error: { name: 'Error', message: expect.stringContaining('render needs staged') } });
    } finally {
      logger.setLogLevel('SILENT');
      info.mockRestore();
      error.mockRestore();
    }
  });

  it('emit rows, bytes, delivery latency and SLA metrics with the feed as dimension when publishing', async () => {
    await runUpTo(p, h, fixture('stepfunctions', 'plan'), 'publish');
    const emf = log.mock.calls
      .map((c) => String(c[0]))
      .filter((s) => s.includes('_aws'))
      .map((s) => JSON.parse(s));
    const metric = (name: string) => emf.find((m) => m._aws.CloudWatchMetrics[0].Metrics.some((x: { Name: string }) => x.Name === name));
    expect(metric('Rows')).toMatchObject({ feed: 'daily', Rows: 3 });
    expect(metric('Bytes').Bytes).toBeGreaterThan(0);
    // Published at 2024-01-16T07:00Z for the slot scheduled 2024-01-15T06:00Z.
    expect(metric('DeliveryLatencySeconds')).toMatchObject({ DeliveryLatencySeconds: 25 * 3600 });
    expect(metric('SlaLate')).toMatchObject({ SlaLate: 1 });
    expect(metric('ValidationFailed')).toMatchObject({ ValidationFailed: 0 });
    // Each also for the whole project, under the service dimension alone: what the alarms watch.
    const projectWide = emf.filter((m) => m.feed === undefined && m.service === 'dropkit').map((m) => m._aws.CloudWatchMetrics[0]);
    expect(projectWide.map((m) => m.Metrics[0].Name).sort()).toEqual(['Bytes', 'Delivered', 'DeliveryLatencySeconds', 'Rows', 'SlaLate', 'ValidationFailed']);
    for (const m of projectWide) expect(m.Dimensions).toEqual([['service']]);
  });

  it('answer a second plan of the delivered slot with already-delivered, and its repair with nothing to do', async () => {
    await runUpTo(p, h, fixture('stepfunctions', 'plan'), 'notify');
    const again: any = await h.plan(fixture('stepfunctions', 'plan'));
    expect(again.status).toBe('already-delivered');
    const repaired: any = await h.plan({ repair: again.delivered });
    expect(repaired).toEqual({ delivered: expect.objectContaining({ action: 'none' }), others: [] });
  });

  it('answer a plan of a slot another execution holds with busy, writing nothing', async () => {
    const first: any = await h.plan(fixture('stepfunctions', 'plan'));
    const before = await listKeys(p.store);
    const second: any = await h.plan(fixture('stepfunctions', 'plan'));
    expect(second.status).toBe('busy');
    expect(second.holder.attemptId).toBe(first.state.attemptId);
    expect(await listKeys(p.store)).toEqual(before);
  });

  it('plan each partner of a per-partner feed from the scheduler event as its own run', async () => {
    const input = fixture('scheduler', 'statements-slot');
    const plans: any[] = [];
    for (const partner of input.partners) plans.push(await h.plan({ feed: input.feed, slot: input.slot, partner }));
    expect(plans.map((x) => [x.status, x.state.plan.partner])).toEqual([
      ['planned', 'acme'],
      ['planned', 'globex'],
    ]);
    expect(plans[0].formats).toEqual(['csv']);
  });

  it('roll back a run whose Lambda failed: the caught error message is recorded, operators told, staging gone, lease released', async () => {
    const { state } = await runUpTo(p, h, fixture('stepfunctions', 'plan'), 'validate');
    const result: any = await h.failRun({ state, step: 'publish', error: fixture('stepfunctions', 'lambda-error-caught') });
    expect(result.status).toBe('failed');
    const record = await readJson<RunRecord>(p.store, runRecordKey({ prefix: 'drops', feed: 'daily', partner: null }, state.plan.slot.id, state.plan.runId));
    expect(record.status).toBe('failed');
    expect(record.step).toBe('publish');
    expect(record.error).toEqual({ name: 'PublishConflictError', message: expect.stringContaining('was written by another attempt while this one published') });
    expect(p.operators.events.map((e) => e.type)).toEqual(['run.failed']);
    expect(await listKeys(p.store, state.stagingPrefix)).toEqual([]);
    expect((await readJson<Lease>(p.store, state.lease.key)).released).toBe(true);
  });

  it("record Athena's reason when the stage query failed", async () => {
    const planned: any = await h.plan(fixture('stepfunctions', 'plan'));
    const failed = fixture('stepfunctions', 'athena-query-failed');
    const result: any = await h.failRun({ state: planned.state, step: 'stage', error: { Error: 'QueryFailedError', Cause: failed.QueryExecution.Status } });
    expect(result.status).toBe('failed');
    expect(result.error.message).toBe("Athena query FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'amout' cannot be resolved");
  });

  it('report a run whose manifest was written before the failure as delivered, with the reference notify takes', async () => {
    const { state, published } = await runUpTo(p, h, fixture('stepfunctions', 'plan'), 'publish');
    const result: any = await h.failRun({ state, step: 'notify', error: { Error: 'States.Timeout', Cause: 'timed out' } });
    expect(result.status).toBe('delivered');
    expect(result.ref).toEqual(published!.ref);
    expect(p.operators.events).toEqual([]);
  });

  it('rethrow a step error unchanged, by name, for Step Functions to match', async () => {
    const planned: any = await h.plan(fixture('stepfunctions', 'plan'));
    const state = { ...planned.state, plan: { ...planned.state.plan, feed: 'nope' } };
    await expect(h.compileStage({ state })).rejects.toThrow('no feed named "nope"');
    await expect(h.render({ state: planned.state, format: 'xlsx' as any })).rejects.toMatchObject({ name: 'BadEventError' });
    await expect(h.validate({} as any)).rejects.toMatchObject({ name: 'BadEventError', message: expect.stringContaining('"state"') });
  });
});

describe('the Lambda step handlers on data that fails its checks', () => {
  let p: LambdaProject;
  beforeEach(async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    p = await lambdaProject({ dupes: true });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await p.close();
  });

  it('validate returns the fail in the state, and fail-run answers validation-failed with the failing checks', async () => {
    const h = handlers(p.deps);
    const planned: any = await h.plan({ feed: 'daily', partner: null, slot: '2024-01-16T06:00:00Z' });
    const compiled = await h.compileStage({ state: planned.state });
    let state = await h.completeStage({ state: planned.state, query: await runStatement(p, compiled) });
    state = await h.validate({ state });
    expect(state.validation!.status).toBe('fail');
    const result: any = await h.failRun({ state, step: 'validate', error: { Error: 'ValidationFailedError', Cause: 'validation.status is fail' } });
    expect(result.status).toBe('validation-failed');
    expect(result.error.message).toMatch(/^daily: 1 check failed, nothing was published:\n {2}- unique/);
    expect(await listKeys(p.store, 'drops/daily/')).toEqual([]);
  });
});
