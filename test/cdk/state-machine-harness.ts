import { StateMachine } from 'aws-local-stepfunctions';
import type { Statement } from '../../lib/core/ports/query-engine';
import { sqlLiteral } from '../../lib/adapters/athena/athena-sql';
import { makeCompileStageHandler } from '../../lambdas/compile-stage';
import { makeCompleteStageHandler } from '../../lambdas/complete-stage';
import { makeFailRunHandler } from '../../lambdas/fail-run';
import { makeNotifyHandler } from '../../lambdas/notify';
import { makePlanHandler } from '../../lambdas/plan';
import { makePublishHandler } from '../../lambdas/publish';
import { makePushHandler } from '../../lambdas/push';
import { makeRenderHandler } from '../../lambdas/render';
import { makeValidateHandler } from '../../lambdas/validate';
import { makeApproveHandler } from '../../lambdas/approve';
import type { LambdaDeps } from '../../lambdas/runtime';
import { allStates } from './state-machine-definition';

export type Handler = (input: any) => Promise<any>;
/** The task token `$$.Task.Token` resolves to in the local executor (AwaitApproval's). */
export const TASK_TOKEN = 'task-token-of-the-test';
export interface AthenaScript {
  readonly states: string[];
  readonly failWith?: string;
}

export function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/**
 * The definition as aws-local-stepfunctions 3.0.0 can run it: it reads TimeoutSecondsPath from the
 * state's effective input (after Parameters), where Step Functions reads the state input, so such a
 * path is dropped (AwaitApproval's: the test that holds a drop sends the timeout itself).
 */
function localExecutable(definition: Record<string, any>): Record<string, any> {
  return JSON.parse(JSON.stringify(definition), (key, value) =>
    value && typeof value === 'object' && !Array.isArray(value) && 'TimeoutSecondsPath' in value
      ? (({ TimeoutSecondsPath: _path, ...rest }) => rest)(value)
      : value,
  );
}

/** One partner's run out of the deployed definition (the Partners Map's processor), as a machine of its own. */
export function partnerRunDefinition(definition: Record<string, any>): Record<string, any> {
  const processor = allStates(definition).Partners.ItemProcessor;
  return { StartAt: processor.StartAt, States: processor.States };
}

/**
 * Runs a definition in process: the real step handlers (over `deps`) stand in for the Lambdas,
 * the engine runs the statement Athena would run, and the SNS alerts are recorded.
 * `athena.states` is what successive GetQueryExecution calls answer.
 */
export async function executeDefinition(
  definition: Record<string, any>,
  deps: LambdaDeps,
  input: unknown,
  options: { athena?: AthenaScript; replace?: Record<string, Handler> } = {},
) {
  const get = async () => deps;
  const statements = new Map<string, Statement>();
  const compile = makeCompileStageHandler(get);
  const athenaStates = [...(options.athena?.states ?? ['SUCCEEDED'])];
  const alerts: any[] = [];
  const queries: any[] = [];
  const startQuery = async (params: any) => {
    const statement = statements.get(params.ClientRequestToken);
    if (!statement) throw named('Athena.InvalidRequestException', 'unknown token');
    queries.push(params);
    // What Athena would get: the compiled SQL, the literals in order, the workgroup.
    if (params.QueryString !== statement.sql) throw new Error('StartQueryExecution got other SQL than CompileStage compiled');
    if (JSON.stringify(params.ExecutionParameters ?? []) !== JSON.stringify(statement.parameters.map(sqlLiteral)))
      throw new Error('StartQueryExecution got other parameters than CompileStage compiled');
    const execution = await deps.engine.execute(statement);
    return { QueryExecutionId: execution.executionId ?? `q-${statements.size}` };
  };
  const getQuery = async (params: any) => {
    const state = athenaStates.length > 1 ? athenaStates.shift()! : athenaStates[0];
    return {
      QueryExecution: {
        QueryExecutionId: params.QueryExecutionId,
        Status: state === 'FAILED' ? { State: state, StateChangeReason: options.athena?.failWith } : { State: state },
        Statistics: { DataScannedInBytes: 2048, EngineExecutionTimeInMillis: 1500 },
      },
      ResponseMetadata: { RequestId: 'r' },
    };
  };
  const alert = async (m: any) => (alerts.push(m), { MessageId: 'm' });
  const states = allStates(definition);
  const handlers: Record<string, Handler> = {
    Plan: makePlanHandler(get),
    Repair: makePlanHandler(get),
    CompileStage: async (event) => {
      const out = await compile(event);
      statements.set(out.statement.token, out.statement);
      return out;
    },
    StartQuery: startQuery,
    StartQueryWithParameters: startQuery,
    GetQuery: getQuery,
    CompleteStage: makeCompleteStageHandler(get),
    Validate: makeValidateHandler(get),
    Render: makeRenderHandler(get),
    Publish: makePublishHandler(get),
    Push: makePushHandler(get),
    PushRecovered: makePushHandler(get),
    PushRepaired: makePushHandler(get),
    Notify: makeNotifyHandler(get),
    NotifyRecovered: makeNotifyHandler(get),
    FailRun: makeFailRunHandler(get),
    CheckApproval: makeApproveHandler(get),
    ExpireApproval: makeApproveHandler(get),
    // aws-local-stepfunctions 3.0.0 has no .waitForTaskToken: a test that holds a drop replaces this with the decision it sends.
    AwaitApproval: async () => {
      throw named('States.Runtime', 'AwaitApproval waits for a task token: give the test a replace.AwaitApproval that decides');
    },
    // Every SNS alert state of the definition, whatever the graph named it.
    ...Object.fromEntries(
      Object.keys(states)
        .filter((n) => states[n].Resource === 'arn:aws:states:::sns:publish')
        .map((n) => [n, alert]),
    ),
    ...options.replace,
  };
  const machine = new StateMachine(localExecutable(definition) as any, { validationOptions: { checkArn: false } });
  const run = machine.run(input as any, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      waitTimeOverrides: { WaitForQuery: 0 },
      retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((k) => [k, 0])),
    },
    context: { Execution: { Id: 'arn:aws:states:eu-west-1:123456789012:execution:Pipeline:test' }, Task: { Token: TASK_TOKEN } } as any,
  });
  const entered: string[] = [];
  const retried: string[] = [];
  const events = (async () => {
    for await (const e of run.eventLogs) {
      if (e.type === 'StateEntered') entered.push((e as any).state.name);
      if (e.type === 'StateRetried') retried.push((e as any).state.name);
    }
  })();
  let output: any;
  let error: any;
  try {
    output = await run.result;
  } catch (e) {
    error = e;
  }
  await events;
  return { output, error, entered, retried, alerts, queries };
}
