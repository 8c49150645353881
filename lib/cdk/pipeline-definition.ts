import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

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

/** Athena's own transient answers, as Step Functions names them for its SDK integration. */
export const ATHENA_TRANSIENT_ERRORS = ['Athena.TooManyRequestsException', 'Athena.InternalServerException'];

export interface PipelineFunctions {
  readonly plan: lambda.IFunction;
  readonly compileStage: lambda.IFunction;
  readonly completeStage: lambda.IFunction;
  readonly validate: lambda.IFunction;
  readonly render: lambda.IFunction;
  readonly publish: lambda.IFunction;
  readonly notify: lambda.IFunction;
  readonly failRun: lambda.IFunction;
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

/**
 * The run of one slot of one feed, for every partner it is delivered to, as a JSONPath state
 * machine: the local runner's loop (lib/runner/run-slot.ts) as states. Input:
 * `{ "feed": "daily_orders", "slot": "<ISO time>", "partners": [null] | ["acme", …] }`.
 *
 * Per partner: Plan (lease) → CompileStage → Athena StartQueryExecution → Wait/GetQueryExecution
 * loop → CompleteStage → Validate → (fail → failRun) → RenderFormats (Map) → Publish → Notify.
 * Every step's Catch records the step and goes to FailRun, which rolls back, alerts the operators
 * through their notifiers, or finds the manifest written and sends the notice after all. A partner's
 * run never fails the Map (that would stop the other partners mid-run): it ends with its status,
 * and the execution fails at the end if any run failed, so the failed-executions alarm sees it.
 */
export function pipelineDefinition(scope: Construct, o: PipelineOptions): sfn.IChainable {
  const f = o.functions;
  const invoke = (id: string, fn: lambda.IFunction, payload: Record<string, unknown>, resultPath?: string) => {
    const task = new tasks.LambdaInvoke(scope, id, { lambdaFunction: fn, payload: sfn.TaskInput.fromObject(payload), payloadResponseOnly: true, resultPath });
    task.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4, jitterStrategy: sfn.JitterType.FULL });
    return task;
  };
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
  const outcome = (id: string, status: string) =>
    new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ status }), resultPath: '$.outcome', outputPath: '$.outcome' });

  // Outcomes of one partner's run.
  const delivered = outcome('Delivered', 'delivered');
  const alreadyDelivered = outcome('AlreadyDelivered', 'already-delivered');
  const busy = outcome('SlotBusy', 'busy');
  const failed = outcome('RunFailed', 'failed');

  // Failure handling: which step failed, then failRun.
  const failRun = invoke('FailRun', f.failRun, { 'state.$': '$.state', 'step.$': '$.failedStep', 'error.$': '$.error' }, '$.failed');
  failRun.addCatch(alert('FailRunFailedAlert', 'dropkit: a run failed and could not be rolled back', '$.failRunError').next(failed), {
    resultPath: '$.failRunError',
  });
  const failedAt = (step: string) =>
    new sfn.Pass(scope, `${cap(step)}Failed`, { result: sfn.Result.fromString(step), resultPath: '$.failedStep' }).next(failRun);
  const stageFailed = failedAt('stage');
  const validateFailed = failedAt('validate');
  const renderFailed = failedAt('render');
  const publishFailed = failedAt('publish');
  const catchTo = (task: sfn.TaskStateBase | sfn.CustomState | sfn.Map, target: sfn.IChainable) => task.addCatch(target, { resultPath: '$.error' });

  // Notify: a failure here leaves a delivered drop whose notice the next run of the slot sends.
  const notifyFailed = alert('NotifyFailedAlert', 'dropkit: a drop was delivered but its notice was not sent', '$.error').next(delivered);
  const notify = invoke('Notify', f.notify, { 'ref.$': '$.published.ref', 'attemptId.$': '$.state.attemptId' }, '$.notice');
  notify.addCatch(notifyFailed, { resultPath: '$.error' });
  const notifyRecovered = invoke('NotifyRecovered', f.notify, { 'ref.$': '$.failed.ref', 'attemptId.$': '$.state.attemptId' }, '$.notice');
  notifyRecovered.addCatch(notifyFailed, { resultPath: '$.error' });

  const afterFailRun = new sfn.Choice(scope, 'RolledBack?')
    .when(sfn.Condition.stringEquals('$.failed.status', 'delivered'), notifyRecovered.next(delivered))
    .when(sfn.Condition.stringEquals('$.failed.status', 'busy'), busy)
    .otherwise(failed);
  failRun.next(afterFailRun);

  // The happy path.
  const plan = invoke('Plan', f.plan, { 'feed.$': '$.feed', 'partner.$': '$.partner', 'slot.$': '$.slot' }, '$.planned');
  plan.addCatch(alert('PlanFailedAlert', 'dropkit: a run could not be planned', '$.error').next(failed), { resultPath: '$.error' });
  const begin = new sfn.Pass(scope, 'Begin', {
    parameters: { 'feed.$': '$.feed', 'partner.$': '$.partner', 'slot.$': '$.slot', 'state.$': '$.planned.state', 'formats.$': '$.planned.formats' },
  });
  const compile = invoke('CompileStage', f.compileStage, { 'state.$': '$.state' }, '$.stage');
  catchTo(compile, stageFailed);

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
    catchTo(state, stageFailed);
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
  getQuery.addRetry({ errors: ATHENA_TRANSIENT_ERRORS, interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 5, jitterStrategy: sfn.JitterType.FULL });
  catchTo(getQuery, stageFailed);
  const queryFailed = new sfn.Pass(scope, 'QueryFailed', {
    parameters: { Error: 'QueryFailedError', 'Cause.$': '$.query.QueryExecution.Status' },
    resultPath: '$.error',
  }).next(stageFailed);

  const complete = invoke('CompleteStage', f.completeStage, { 'state.$': '$.state', 'query.$': '$.query' }, '$.state');
  catchTo(complete, stageFailed);
  const validate = invoke('Validate', f.validate, { 'state.$': '$.state' }, '$.state');
  catchTo(validate, validateFailed);
  const validationFailed = new sfn.Pass(scope, 'ValidationFailed', {
    result: sfn.Result.fromObject({ Error: 'ValidationFailedError', Cause: 'an error-severity check failed; nothing is published' }),
    resultPath: '$.error',
  }).next(validateFailed);

  const renderFormats = new sfn.Map(scope, 'RenderFormats', {
    itemsPath: '$.formats',
    itemSelector: { 'state.$': '$.state', 'format.$': '$$.Map.Item.Value' },
    resultPath: '$.rendered',
    maxConcurrency: 2,
  });
  // No ResultPath: the files replace the item (the default; an explicit "$" trips the local executor the tests use).
  renderFormats.itemProcessor(invoke('Render', f.render, { 'state.$': '$.state', 'format.$': '$.format' }));
  catchTo(renderFormats, renderFailed);
  const publish = invoke('Publish', f.publish, { 'state.$': '$.state', 'rendered.$': '$.rendered' }, '$.published');
  catchTo(publish, publishFailed);

  const run = plan.next(
    new sfn.Choice(scope, 'Planned?')
      .when(
        sfn.Condition.stringEquals('$.planned.status', 'planned'),
        begin
          .next(compile)
          .next(
            new sfn.Choice(scope, 'HasParameters?')
              .when(sfn.Condition.booleanEquals('$.stage.hasParameters', true), startQuery('StartQueryWithParameters', true).next(wait))
              .otherwise(startQuery('StartQuery', false).next(wait)),
          ),
      )
      .when(sfn.Condition.stringEquals('$.planned.status', 'already-delivered'), alreadyDelivered)
      .otherwise(busy),
  );
  wait.next(getQuery).next(
    new sfn.Choice(scope, 'QueryDone?')
      .when(
        sfn.Condition.stringEquals('$.query.QueryExecution.Status.State', 'SUCCEEDED'),
        complete
          .next(validate)
          .next(
            new sfn.Choice(scope, 'Publishable?')
              .when(sfn.Condition.stringEquals('$.state.validation.status', 'fail'), validationFailed)
              .otherwise(renderFormats.next(publish).next(notify).next(delivered)),
          ),
      )
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals('$.query.QueryExecution.Status.State', 'FAILED'),
          sfn.Condition.stringEquals('$.query.QueryExecution.Status.State', 'CANCELLED'),
        ),
        queryFailed,
      )
      .otherwise(wait),
  );

  const partners = new sfn.Map(scope, 'Partners', {
    itemsPath: '$.partners',
    itemSelector: { 'feed.$': '$.feed', 'slot.$': '$.slot', 'partner.$': '$$.Map.Item.Value' },
    maxConcurrency: o.partnerConcurrency,
    resultSelector: { 'statuses.$': '$[*].status' },
    resultPath: '$.runs',
  });
  partners.itemProcessor(run);

  const summary = new sfn.Pass(scope, 'Summarize', {
    parameters: { 'feed.$': '$.feed', 'slot.$': '$.slot', 'statuses.$': '$.runs.statuses', 'anyFailed.$': "States.ArrayContains($.runs.statuses, 'failed')" },
  });
  return partners.next(summary).next(
    new sfn.Choice(scope, 'AllDelivered?')
      .when(
        sfn.Condition.booleanEquals('$.anyFailed', true),
        new sfn.Fail(scope, 'SomeRunsFailed', {
          error: 'RunFailed',
          cause: 'one or more runs of this slot failed; the ops topic and _runs/ in the bucket say why',
        }),
      )
      .otherwise(new sfn.Succeed(scope, 'Done')),
  );
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}
