import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { GraphNode, NodeName, RunStatus, Target } from '../core/graph/step-graph';
import { runRecordsPrefix } from '../core/layout';
import { START_NODE, STEP_GRAPH } from '../core/graph/step-graph';
import type { StepName } from '../core/run-record';
import { DeployConfigError } from './errors';

/** Errors worth another try: throttling and blips of the services the steps call (by the name the SDKs give them). */
export const TRANSIENT_ERRORS = [
  'ThrottlingException',
  'TooManyRequestsException',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'TimeoutError',
  'NetworkingError',
  'ECONNRESET',
  'Lambda.TooManyRequestsException',
];

/** What a handler throws when a wait reaches its Lambda's remaining time (StepTimeBudgetError): retried. */
export const STEP_TIME_BUDGET_ERROR = 'StepTimeBudgetError';

/** Athena's own transient answers, as Step Functions names them for its SDK integration. */
export const ATHENA_TRANSIENT_ERRORS = ['Athena.TooManyRequestsException', 'Athena.InternalServerException'];

export interface PipelineFunctions {
  readonly plan: lambda.IFunction;
  readonly compileStage: lambda.IFunction;
  readonly completeStage: lambda.IFunction;
  readonly validate: lambda.IFunction;
  readonly render: lambda.IFunction;
  readonly publish: lambda.IFunction;
  readonly push: lambda.IFunction;
  readonly notify: lambda.IFunction;
  readonly failRun: lambda.IFunction;
  /** The approve node (sign-off): check, keep the task token, expire. */
  readonly approve: lambda.IFunction;
}

export interface PipelineOptions {
  readonly functions: PipelineFunctions;
  readonly workGroupName: string;
  /** Database for unqualified table names in the feed SQL. */
  readonly sourceDatabase?: string;
  readonly opsTopic: sns.ITopic;
  readonly pollInterval: Duration;
  readonly partnerConcurrency: number;
}

/** Which states of the definition belong to each graph node (the scenario test maps a state machine's trail to nodes with it). */
export const NODE_STATES: Readonly<Record<NodeName, readonly string[]>> = {
  plan: ['Plan', 'Planned?'],
  pushRepaired: ['PushRepaired', 'PushedRepaired?'],
  repair: ['Repair'],
  stage: ['Begin', 'CompileStage', 'HasParameters?', 'StartQuery', 'StartQueryWithParameters', 'WaitForQuery', 'GetQuery', 'QueryDone?', 'CompleteStage'],
  validate: ['Validate', 'Publishable?'],
  render: ['RenderFormats', 'Render'],
  approve: ['CheckApproval', 'Held?', 'AwaitApproval', 'ExpireApproval', 'ApprovalDecided', 'Approved?'],
  publish: ['Publish'],
  push: ['Push', 'Pushed?'],
  notify: ['Notify'],
  failRun: ['FailRun', 'RolledBack?'],
  pushRecovered: ['PushRecovered', 'PushedRecovered?'],
  notifyRecovered: ['NotifyRecovered'],
};

/** The graph node a state belongs to, if any (ends, alerts and the fan-out belong to none). */
export function nodeOfState(state: string): NodeName | undefined {
  return (Object.keys(NODE_STATES) as NodeName[]).find((n) => NODE_STATES[n].includes(state));
}

/** Where a push node's summary goes (pushDelivered's PushSummary); an alert on its `incomplete` outcome carries it. */
const PUSHED_PATH = '$.pushed';

/**
 * Where the state machine finds a node's outcome, for the nodes with more than one: a Choice on
 * a path of the step's result (plan's and failRun's `status`), or a condition per outcome with one
 * outcome left for `otherwise` (validate: only a `fail` report stops the run, as `validateOutcome` says).
 */
const OUTCOMES: Partial<
  Record<NodeName, { readonly choice: string; readonly path?: string; readonly when?: Record<string, sfn.Condition>; readonly otherwise?: string }>
> = {
  plan: { choice: 'Planned?', path: '$.planned.status' },
  validate: { choice: 'Publishable?', when: { failed: sfn.Condition.stringEquals('$.state.validation.status', 'fail') }, otherwise: 'publishable' },
  failRun: { choice: 'RolledBack?', path: '$.failed.status' },
  approve: { choice: 'Approved?', path: '$.state.approval.outcome' },
  push: { choice: 'Pushed?', path: PUSHED_PATH + '.status' },
  pushRecovered: { choice: 'PushedRecovered?', path: PUSHED_PATH + '.status' },
  pushRepaired: { choice: 'PushedRepaired?', path: PUSHED_PATH + '.status' },
};

/** Statuses of a partner's run that fail the execution (so the failed-executions alarm sees them). */
export const FAILING_STATUSES: readonly RunStatus[] = ['failed', 'validation-failed'];

/**
 * The run of one slot of one feed, for every partner it is delivered to, as a JSONPath state
 * machine compiled from the step graph (lib/core/graph/step-graph.ts), which the local runner
 * interprets. Input: `{ "feed": "daily_orders", "slot": "<ISO time>", "partners": [null] | ["acme", …], "rerun"?: true }`.
 *
 * Each graph node becomes a Lambda task (stage: CompileStage → Athena StartQueryExecution →
 * Wait/GetQueryExecution loop → CompleteStage), its outcomes a Choice, its error a Catch to the
 * graph's target: failRun (through a Pass that records the failed step), or an end with an alert
 * to the operators. A partner's run never fails the Map (that would stop the other partners
 * mid-run): it ends with its status, and the execution fails at the end if any run failed.
 */
export function pipelineDefinition(scope: Construct, o: PipelineOptions): sfn.IChainable {
  const run = partnerRun(scope, o);
  // `rerun` is optional in the input: false unless given, so every partner's Plan gets it.
  const defaults = new sfn.Pass(scope, 'Defaults', {
    parameters: { 'input.$': 'States.JsonMerge(States.StringToJson(\'{"rerun":false}\'), $, false)' },
    outputPath: '$.input',
  });
  assertHistoryBudget(o);
  // Each partner's run is a child execution (a Distributed Map) with a history of its own: the
  // parent's stays a few events whatever the number of partners (15,000-odd events per partner run
  // would otherwise add up past Standard's 25,000 at ~14 partners with long queries).
  const partners = new sfn.DistributedMap(scope, 'Partners', {
    itemsPath: '$.partners',
    itemSelector: { 'feed.$': '$.feed', 'slot.$': '$.slot', 'rerun.$': '$.rerun', 'partner.$': '$$.Map.Item.Value' },
    maxConcurrency: o.partnerConcurrency,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    label: 'Partner',
    resultSelector: { 'statuses.$': '$[*].status' },
    resultPath: '$.runs',
  });
  partners.itemProcessor(run);

  const summary = new sfn.Pass(scope, 'Summarize', {
    parameters: {
      'feed.$': '$.feed',
      'slot.$': '$.slot',
      'statuses.$': '$.runs.statuses',
      ...Object.fromEntries(FAILING_STATUSES.map((s, i) => [`failing${i}.$`, `States.ArrayContains($.runs.statuses, '${s}')`])),
    },
  });
  return defaults
    .next(partners)
    .next(summary)
    .next(
      new sfn.Choice(scope, 'AllDelivered?')
        .when(
          sfn.Condition.or(...FAILING_STATUSES.map((_s, i) => sfn.Condition.booleanEquals(`$.failing${i}`, true))),
          new sfn.Fail(scope, 'SomeRunsFailed', {
            error: 'RunFailed',
            cause: `one or more runs of this slot failed; the ops topic and ${runRecordsPrefix('')} under the project's prefix say why`,
          }),
        )
        .otherwise(new sfn.Succeed(scope, 'Done')),
    );
}

/** Step Functions' limit on one Standard execution's history. */
export const HISTORY_LIMIT = 25_000;
/** The longest stage query the budget allows for: Athena's DML timeout can be raised to an hour's order. */
export const WORST_QUERY_TIME = Duration.hours(1);
/** Events of one poll of the query: Wait (entered, exited), GetQueryExecution (entered, scheduled, started, succeeded, exited), Choice (entered, exited). */
const EVENTS_PER_POLL = 9;
/** Events of a task state in the worst case: 5 for a success, 3 more per retry (scheduled, started, failed). */
const EVENTS_PER_TASK = 5 + 3 * 4;

/**
 * The worst-case history of one partner's run (a child execution): every state of the run, each a
 * task retried to its limit, plus the polls of an hour-long query. Refused at synth above 80% of
 * the limit, with the fix.
 */
export function partnerRunHistoryEvents(o: Pick<PipelineOptions, 'pollInterval'>, stateCount: number): number {
  const polls = Math.ceil(WORST_QUERY_TIME.toSeconds() / Math.max(1, o.pollInterval.toSeconds()));
  return stateCount * EVENTS_PER_TASK + polls * EVENTS_PER_POLL;
}

function assertHistoryBudget(o: PipelineOptions): void {
  const states = Object.values(NODE_STATES).flat().length + Object.keys(END_STATES).length + 8;
  const events = partnerRunHistoryEvents(o, states);
  if (events > HISTORY_LIMIT * 0.8) {
    const fixed = states * EVENTS_PER_TASK;
    const minPoll = Math.ceil((WORST_QUERY_TIME.toSeconds() * EVENTS_PER_POLL) / (HISTORY_LIMIT * 0.8 - fixed));
    throw new DeployConfigError(
      `FileExchange: queryPollInterval ${o.pollInterval.toSeconds()} s lets one partner's run reach ${events} history events with an hour-long query, over 80% of Step Functions' ${HISTORY_LIMIT}; ` +
        `set queryPollInterval to at least ${minPoll} seconds`,
    );
  }
}

/** One partner's run: the step graph compiled to states. Input `{ feed, partner, slot, rerun }`. */
export function partnerRun(scope: Construct, o: PipelineOptions, graph: Readonly<Record<NodeName, GraphNode>> = STEP_GRAPH): sfn.IChainable {
  const f = o.functions;
  const invoke = (id: string, fn: lambda.IFunction, payload: Record<string, unknown>, resultPath?: string) => {
    const task = new tasks.LambdaInvoke(scope, id, { lambdaFunction: fn, payload: sfn.TaskInput.fromObject(payload), payloadResponseOnly: true, resultPath });
    task.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4, jitterStrategy: sfn.JitterType.FULL });
    // A step that ran out of Lambda time stopped its query and wrote nothing half: it starts again.
    task.addRetry({ errors: [STEP_TIME_BUDGET_ERROR], interval: Duration.seconds(5), maxAttempts: 2 });
    return task;
  };
  const memo = new Map<string, sfn.IChainable>();
  const once = <T extends sfn.IChainable>(id: string, build: () => T): T => {
    if (!memo.has(id)) memo.set(id, build());
    return memo.get(id) as T;
  };

  // Ends: the partner's status is the Map item's result.
  const end = (status: RunStatus) =>
    once(
      `end:${status}`,
      () => new sfn.Pass(scope, END_STATES[status], { result: sfn.Result.fromObject({ status }), resultPath: '$.outcome', outputPath: '$.outcome' }),
    );
  const alert = (id: string, subject: string, errorPath: string) =>
    new tasks.SnsPublish(scope, id, {
      topic: o.opsTopic,
      subject,
      message: sfn.TaskInput.fromObject({
        alert: subject,
        'feed.$': '$.feed',
        'partner.$': '$.partner',
        'slot.$': '$.slot',
        'error.$': errorPath,
        'execution.$': '$$.Execution.Id',
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
  // failRun is told which step failed (and, for a branch that is not an error, which error to record).
  const failedAt = (step: StepName) =>
    once(`failed:${step}`, () =>
      new sfn.Pass(scope, `${cap(step)}Failed`, { result: sfn.Result.fromString(step), resultPath: '$.failedStep' }).next(entry('failRun')),
    );
  const errorPathOf = (node: NodeName) => (node === 'failRun' ? '$.failRunError' : '$.error');

  /** The state a target of `from` leads to; `label` names alert states uniquely; `detail`: what an alert carries (default: the node's error). */
  const to = (t: Target, from: NodeName, label: string, detail = errorPathOf(from)): sfn.IChainable => {
    if ('next' in t) {
      if (!t.alert) return entry(t.next);
      const subject = t.alert;
      return once(`alert:${from}:${label}`, () => alert(`${STATE_OF[from]}${label}Alert`, subject, detail).next(entry(t.next)));
    }
    if ('end' in t) {
      if (!t.alert) return end(t.end);
      const subject = t.alert;
      return once(`alert:${from}:${label}`, () => alert(`${STATE_OF[from]}${label}Alert`, subject, errorPathOf(from)).next(end(t.end)));
    }
    if (!t.error) return failedAt(t.failRun);
    const error = t.error;
    return once(`error:${error.name}`, () =>
      new sfn.Pass(scope, error.name.replace(/Error$/, ''), {
        result: sfn.Result.fromObject({ Error: error.name, Cause: error.message }),
        resultPath: '$.error',
      }).next(failedAt(t.failRun)),
    );
  };
  const onError = (node: NodeName) => to(graph[node].onError, node, 'Failed');
  const catchTo = (node: NodeName, ...states: (sfn.TaskStateBase | sfn.CustomState | sfn.Map)[]) => {
    for (const s of states) s.addCatch(onError(node), { resultPath: errorPathOf(node) });
  };

  /** A node's last state goes on by the node's outcomes. */
  const route = (node: NodeName, last: sfn.INextable) => {
    const outcomes = Object.keys(graph[node].on);
    if (outcomes.length === 1) {
      last.next(to(graph[node].on[outcomes[0]], node, cap(outcomes[0]), RESULT_PATHS[node]));
      return;
    }
    const at = OUTCOMES[node];
    if (!at)
      throw new Error(`step graph: node ${node} has outcomes ${outcomes.join(', ')}, but the state machine does not know where its outcome is (OUTCOMES)`);
    const choice = new sfn.Choice(scope, at.choice);
    for (const outcome of outcomes) {
      if (outcome === at.otherwise) continue;
      const condition = at.path ? sfn.Condition.stringEquals(at.path, outcome) : at.when?.[outcome];
      if (!condition) throw new Error(`step graph: the state machine has no condition for outcome "${outcome}" of node ${node}`);
      choice.when(condition, to(graph[node].on[outcome], node, pascal(outcome), RESULT_PATHS[node]));
    }
    if (at.otherwise) choice.otherwise(to(graph[node].on[at.otherwise], node, pascal(at.otherwise), RESULT_PATHS[node]));
    // An outcome the graph does not know is a defect: fail loudly rather than guess.
    else
      choice.otherwise(
        new sfn.Fail(scope, `${at.choice.replace(/\?$/, '')}Unknown`, {
          error: 'UnknownOutcome',
          cause: `${node} returned an outcome the step graph has no branch for`,
        }),
      );
    last.next(choice);
  };

  // The three push nodes run the push function on the delivered run each one is about.
  // push and pushRecovered run under the attempt's lease (the push function renews it); a repaired slot's run holds none.
  const pushState = (node: 'push' | 'pushRecovered' | 'pushRepaired', refPath: string, underLease: boolean) => () => {
    const push = invoke(NODE_STATES[node][0], f.push, { 'ref.$': refPath, ...(underLease ? { 'attemptId.$': '$.state.attemptId' } : {}) }, PUSHED_PATH);
    catchTo(node, push);
    route(node, push);
    return push;
  };
  const builders: Record<NodeName, () => sfn.State> = {
    push: pushState('push', '$.published.ref', true),
    pushRecovered: pushState('pushRecovered', '$.failed.ref', true),
    pushRepaired: pushState('pushRepaired', '$.planned.delivered', false),
    plan: () => {
      const plan = invoke('Plan', f.plan, { 'feed.$': '$.feed', 'partner.$': '$.partner', 'slot.$': '$.slot', 'rerun.$': '$.rerun' }, '$.planned');
      catchTo('plan', plan);
      route('plan', plan);
      return plan;
    },
    repair: () => {
      // The plan function repairs too (same grants): the node is its own task, as in the local runner.
      const repair = invoke('Repair', f.plan, { 'repair.$': '$.planned.delivered' }, '$.repaired');
      catchTo('repair', repair);
      route('repair', repair);
      return repair;
    },
    stage: () => {
      const begin = new sfn.Pass(scope, 'Begin', {
        parameters: { 'feed.$': '$.feed', 'partner.$': '$.partner', 'slot.$': '$.slot', 'state.$': '$.planned.state', 'formats.$': '$.planned.formats' },
      });
      const compile = invoke('CompileStage', f.compileStage, { 'state.$': '$.state' }, '$.stage');
      const startQuery = (id: string, withParameters: boolean) => {
        const parameters: Record<string, unknown> = {
          'QueryString.$': '$.stage.statement.sql',
          'ClientRequestToken.$': '$.stage.statement.token',
          WorkGroup: o.workGroupName,
        };
        if (withParameters) parameters['ExecutionParameters.$'] = '$.stage.executionParameters';
        if (o.sourceDatabase) parameters.QueryExecutionContext = { Database: o.sourceDatabase, Catalog: 'AwsDataCatalog' };
        const state = new sfn.CustomState(scope, id, {
          stateJson: { Type: 'Task', Resource: 'arn:aws:states:::athena:startQueryExecution', Parameters: parameters, ResultPath: '$.queryStart' },
        });
        state.addRetry({ errors: ATHENA_TRANSIENT_ERRORS, interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 5, jitterStrategy: sfn.JitterType.FULL });
        catchTo('stage', state);
        return state;
      };
      const wait = new sfn.Wait(scope, 'WaitForQuery', { time: sfn.WaitTime.duration(o.pollInterval) });
      const getQuery = new sfn.CustomState(scope, 'GetQuery', {
        stateJson: {
          Type: 'Task',
          Resource: 'arn:aws:states:::athena:getQueryExecution',
          Parameters: { 'QueryExecutionId.$': '$.queryStart.QueryExecutionId' },
          ResultSelector: { 'QueryExecution.$': '$.QueryExecution' },
          ResultPath: '$.query',
        },
      });
      getQuery.addRetry({
        errors: ATHENA_TRANSIENT_ERRORS,
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 5,
        jitterStrategy: sfn.JitterType.FULL,
      });
      const complete = invoke('CompleteStage', f.completeStage, { 'state.$': '$.state', 'query.$': '$.query' }, '$.state');
      catchTo('stage', compile, getQuery, complete);
      const queryFailed = new sfn.Pass(scope, 'QueryFailed', {
        parameters: { Error: 'QueryFailedError', 'Cause.$': '$.query.QueryExecution.Status' },
        resultPath: '$.error',
      }).next(onError('stage'));
      begin
        .next(compile)
        .next(
          new sfn.Choice(scope, 'HasParameters?')
            .when(sfn.Condition.booleanEquals('$.stage.hasParameters', true), startQuery('StartQueryWithParameters', true).next(wait))
            .otherwise(startQuery('StartQuery', false).next(wait)),
        );
      wait.next(getQuery).next(
        new sfn.Choice(scope, 'QueryDone?')
          .when(sfn.Condition.stringEquals('$.query.QueryExecution.Status.State', 'SUCCEEDED'), complete)
          .when(
            sfn.Condition.or(
              sfn.Condition.stringEquals('$.query.QueryExecution.Status.State', 'FAILED'),
              sfn.Condition.stringEquals('$.query.QueryExecution.Status.State', 'CANCELLED'),
            ),
            queryFailed,
          )
          .otherwise(wait),
      );
      route('stage', complete);
      return begin;
    },
    validate: () => {
      const validate = invoke('Validate', f.validate, { 'state.$': '$.state' }, '$.state');
      catchTo('validate', validate);
      route('validate', validate);
      return validate;
    },
    render: () => {
      const renderFormats = new sfn.Map(scope, 'RenderFormats', {
        itemsPath: '$.formats',
        itemSelector: { 'state.$': '$.state', 'format.$': '$$.Map.Item.Value' },
        resultPath: '$.rendered',
        // One format at a time: with two in flight, a format still rendering when the other failed
        // writes into staging after failRun removed it (the scenario table caught that leftover).
        maxConcurrency: 1,
      });
      // No ResultPath: the files replace the item (the default; an explicit "$" trips the local executor the tests use).
      renderFormats.itemProcessor(invoke('Render', f.render, { 'state.$': '$.state', 'format.$': '$.format' }));
      catchTo('render', renderFormats);
      route('render', renderFormats);
      return renderFormats;
    },
    approve: () => {
      // Sign-off (lib/core/approval). CheckApproval answers not-required, or holds the drop (lease to
      // the deadline, hold recorded, approvers told) and answers held; AwaitApproval then waits for
      // the decision the link broker's approver API sends with the task token (SendTaskSuccess, the
      // decided approval as output), at most the feed's approval timeout; States.Timeout → ExpireApproval.
      const check = invoke('CheckApproval', f.approve, { 'state.$': '$.state', 'rendered.$': '$.rendered' }, '$.state');
      const expire = invoke('ExpireApproval', f.approve, { 'state.$': '$.state', expire: true }, '$.state.approval');
      const wait = new sfn.CustomState(scope, 'AwaitApproval', {
        stateJson: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: f.approve.functionArn, Payload: { 'state.$': '$.state', 'taskToken.$': '$$.Task.Token' } },
          TimeoutSecondsPath: '$.state.approval.timeoutSeconds',
          ResultPath: '$.state.approval',
        },
      });
      wait.addRetry({ errors: ['Lambda.TooManyRequestsException', 'Lambda.ServiceException'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4 });
      wait.addCatch(expire, { errors: ['States.Timeout'], resultPath: '$.timeout' });
      catchTo('approve', check, wait, expire);
      const decided = new sfn.Pass(scope, 'ApprovalDecided', { comment: 'the gate has its outcome: on to Approved?' });
      route('approve', decided);
      check.next(new sfn.Choice(scope, 'Held?').when(sfn.Condition.stringEquals('$.state.approval.outcome', 'held'), wait).otherwise(decided));
      wait.next(decided);
      expire.next(decided);
      return check;
    },
    publish: () => {
      const publish = invoke('Publish', f.publish, { 'state.$': '$.state', 'rendered.$': '$.rendered' }, '$.published');
      catchTo('publish', publish);
      route('publish', publish);
      return publish;
    },
    notify: () => {
      const notify = invoke('Notify', f.notify, { 'ref.$': '$.published.ref', 'attemptId.$': '$.state.attemptId' }, '$.notice');
      catchTo('notify', notify);
      route('notify', notify);
      return notify;
    },
    failRun: () => {
      const failRun = invoke('FailRun', f.failRun, { 'state.$': '$.state', 'step.$': '$.failedStep', 'error.$': '$.error' }, '$.failed');
      catchTo('failRun', failRun);
      route('failRun', failRun);
      return failRun;
    },
    notifyRecovered: () => {
      const notify = invoke('NotifyRecovered', f.notify, { 'ref.$': '$.failed.ref', 'attemptId.$': '$.state.attemptId' }, '$.notice');
      catchTo('notifyRecovered', notify);
      route('notifyRecovered', notify);
      return notify;
    },
  };
  // Built on first reference (a node's targets are built while it is), so cycles through failRun resolve.
  const entries = new Map<NodeName, sfn.State>();
  const building = new Set<NodeName>();
  function entry(node: NodeName): sfn.IChainable {
    const built = entries.get(node);
    if (built) return built;
    // The graph's only loop (the query poll) is inside the stage node; a loop between nodes would need a placeholder state.
    if (building.has(node)) throw new Error(`step graph: a loop back to ${node} cannot be compiled`);
    building.add(node);
    const state = builders[node]();
    entries.set(node, state);
    return state;
  }
  return entry(START_NODE);
}

/** Where a node's result is, for an alert on one of its outcomes (not an error) to carry. */
const RESULT_PATHS: Partial<Record<NodeName, string>> = { push: PUSHED_PATH, pushRecovered: PUSHED_PATH, pushRepaired: PUSHED_PATH };

/** The end state of each status (the Map item's result). */
const END_STATES: Record<RunStatus, string> = {
  delivered: 'Delivered',
  'already-delivered': 'AlreadyDelivered',
  busy: 'SlotBusy',
  failed: 'RunFailed',
  'validation-failed': 'RunValidationFailed',
  // Locally only: on AWS a held run waits inside the approve node instead of ending.
  'awaiting-approval': 'AwaitingApproval',
};

/** The state that starts each node, for naming its alerts. */
const STATE_OF: Record<NodeName, string> = Object.fromEntries((Object.keys(NODE_STATES) as NodeName[]).map((n) => [n, NODE_STATES[n][0]])) as Record<
  NodeName,
  string
>;

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function pascal(s: string): string {
  return s.replace(/(^|[-_])([a-z])/g, (_m, _p, c: string) => c.toUpperCase());
}
