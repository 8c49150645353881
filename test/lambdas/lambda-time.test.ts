import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient, StartQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import { AthenaEngine } from '../../lib/adapters/athena/athena-engine';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { StepTimeBudgetError } from '../../lib/core/errors';
import { STEP_TIME_BUDGET_ERROR, TRANSIENT_ERRORS } from '../../lib/cdk/pipeline-definition';
import { stepHandler } from '../../lambdas/handler-kit';
import { waitTimeLeftMs, WAIT_MARGIN_MS } from '../../lambdas/invocation';
import { logger } from '../../lambdas/observability';
import { FakeAthena } from '../helpers/fake-athena';
import { exampleStack } from '../cdk/cdk-app';
import { allStates, deployedDefinition } from '../cdk/state-machine-definition';

const BUCKET = 'drops-bucket';

describe('Lambda time', () => {
  let root: string;
  let fake: FakeAthena;
  let client: AthenaClient;
  let mock: ReturnType<FakeAthena['install']>;
  let store: LocalStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dropkit-lambda-time-'));
    store = new LocalStore(join(root, 'store'));
    fake = await FakeAthena.create(store, BUCKET);
    client = new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
    mock = fake.install(client);
  });
  afterEach(async () => {
    mock.restore();
    await fake.close();
    await rm(root, { recursive: true, force: true });
  });

  const engine = (timeLeftMs: () => number) =>
    new AthenaEngine({ workGroup: 'wg', stagingDatabase: 'dk_staging', bucket: BUCKET, store, client, pollIntervalMs: 50, timeLeftMs });
  it('stops a query still running when the time left is shorter than the next wait, with a retriable error', async () => {
    const e = engine(() => 10);
    let error: unknown;
    try {
      await (e as unknown as { run(i: unknown): Promise<unknown> }).run({ QueryString: 'SELECT 1 AS a', ClientRequestToken: 'b'.repeat(40), WorkGroup: 'wg' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StepTimeBudgetError);
    expect((error as Error).name).toBe(STEP_TIME_BUDGET_ERROR);
    expect(mock.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([{ QueryExecutionId: 'q-0001' }]);
  });

  it('runs the stopped query again under a new token when the step is tried again', async () => {
    const run = (e: AthenaEngine) =>
      (e as unknown as { run(i: unknown): Promise<{ Status: { State: string } }> }).run({
        QueryString: 'SELECT 1 AS a',
        ClientRequestToken: 'c'.repeat(40),
        WorkGroup: 'wg',
      });
    await expect(run(engine(() => 10))).rejects.toThrow(StepTimeBudgetError);
    const retried = await run(engine(() => 60_000));
    expect(retried.Status.State).toBe('SUCCEEDED');
    expect(mock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.ClientRequestToken)).toEqual([
      'c'.repeat(40),
      'c'.repeat(40),
      `${'c'.repeat(40)}-again`,
    ]);
  });

  it('bounds every wait of a handler by the remaining time less a margin, and logs the request id', async () => {
    const seen: (number | undefined)[] = [];
    const added = jest.spyOn(logger, 'addContext');
    const handler = stepHandler(
      'probe',
      () => ({}),
      async () => seen.push(waitTimeLeftMs()),
    );
    await handler({}, { awsRequestId: 'req-123', functionName: 'f', getRemainingTimeInMillis: () => 60_000 });
    expect(seen[0]).toBeGreaterThan(60_000 - WAIT_MARGIN_MS - 1000);
    expect(seen[0]).toBeLessThanOrEqual(60_000 - WAIT_MARGIN_MS);
    expect(added).toHaveBeenCalledWith(expect.objectContaining({ awsRequestId: 'req-123' }));
    await handler({});
    expect(seen[1]).toBeUndefined();
    added.mockRestore();
  });

  it('has the state machine retry a step that ran out of time, apart from the transient errors', () => {
    const states = allStates(deployedDefinition(exampleStack()));
    for (const name of ['Validate', 'Render', 'Publish', 'CompleteStage', 'FailRun']) {
      expect(states[name].Retry).toContainEqual(expect.objectContaining({ ErrorEquals: [STEP_TIME_BUDGET_ERROR], MaxAttempts: 2 }));
    }
    expect(TRANSIENT_ERRORS).not.toContain(STEP_TIME_BUDGET_ERROR);
  });
});
