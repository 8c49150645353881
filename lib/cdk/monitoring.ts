import { Duration, Names, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../core/deploy-contract';
import { dropkitFunction } from './dropkit-function';
import type { SlaWatchProps } from './file-exchange-props';
import { Grants, publishTo, putEvents } from './grants';
import type { KeyScopes } from './key-scopes';

export interface MonitoringProps {
  readonly opsTopic: sns.ITopic;
  readonly stateMachine: sfn.StateMachine;
  readonly deadLetterQueue: sqs.Queue;
  readonly slaWatch: SlaWatchProps;
  readonly environment: Record<string, string>;
  readonly feedsFile: string;
  readonly grants: Grants;
  readonly scopes: KeyScopes;
  readonly feedTopicArns: string;
  readonly topicKey: kms.IKey;
  readonly scheduleGroup: scheduler.IScheduleGroup;
  readonly schedulerRole: iam.IRole;
}

/**
 * The SLA watch (dropkit's function, yours, or none), alarms to the ops topic, and a dashboard of
 * deliveries, lateness and failures per feed.
 */
export class Monitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** dropkit's SLA watch function; undefined when the watch is off or replaced by `slaWatch.handler`. */
  readonly slaWatchFunction?: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    if (props.slaWatch.enabled !== false) {
      let handler: lambda.IFunction | undefined = props.slaWatch.handler;
      if (!handler) {
        const fn = dropkitFunction(this, 'slaWatch', props.environment, props.feedsFile);
        // Reads manifests and run records, keeps what it told under _sla/, tells partners and operators.
        props.grants.read(fn, [...props.scopes.drops, props.scopes.runs], true);
        props.grants.readWrite(fn, [props.scopes.sla]);
        publishTo(fn, [props.feedTopicArns, props.opsTopic.topicArn], props.topicKey);
        putEvents(fn, Stack.of(this));
        this.slaWatchFunction = handler = fn;
      }
      new scheduler.Schedule(this, 'SlaWatchSchedule', {
        description: 'dropkit SLA watch: alerts on slots past their deadline without a drop',
        schedule: props.slaWatch.schedule ?? scheduler.ScheduleExpression.rate(Duration.minutes(5)),
        scheduleGroup: props.scheduleGroup,
        target: new schedulerTargets.LambdaInvoke(handler, { role: props.schedulerRole, deadLetterQueue: props.deadLetterQueue, retryAttempts: 3 }),
      });
    }
    this.dashboard = monitoring(this, props);
  }
}

function monitoring(scope: Construct, o: MonitoringProps): cloudwatch.Dashboard {
  const toOps = new cwActions.SnsAction(o.opsTopic);
  const service = { service: METRICS_SERVICE };
  const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
    const a = new cloudwatch.Alarm(scope, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    a.addAlarmAction(toOps);
    return a;
  };
  const sum = (name: string) =>
    new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: service, statistic: 'Sum', period: Duration.minutes(5) });
  alarm(
    'FailedRunsAlarm',
    o.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
    'dropkit: a slot execution failed (a run failed, or the pipeline itself)',
  );
  alarm('ValidationFailedAlarm', sum(METRIC.validationFailed), 'dropkit: a run stopped on an error-severity check; nothing was published');
  alarm('SlaLateAlarm', sum(METRIC.slaLate), 'dropkit: a drop was delivered after its SLA');
  alarm('SlaMissedAlarm', sum(METRIC.slaMissed), 'dropkit: a slot passed its deadline without a drop (from the SLA watch)');
  alarm(
    'DeadLettersAlarm',
    o.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    'dropkit: a schedule could not start the pipeline (see the dead-letter queue)',
  );

  const perFeed = (label: string, metric: string, stat: string) =>
    new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},feed,service} MetricName="${metric}"', '${stat}', 3600)`,
      label,
      period: Duration.hours(1),
    });
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { dashboardName: `${Names.uniqueResourceName(scope, { maxLength: 60, separator: '-' })}` });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Deliveries per feed', left: [perFeed('', METRIC.delivered, 'Sum')], width: 12 }),
    new cloudwatch.GraphWidget({ title: 'Delivery latency after the slot (s), per feed', left: [perFeed('', METRIC.deliveryLatency, 'Maximum')], width: 12 }),
    new cloudwatch.GraphWidget({ title: 'Late deliveries per feed', left: [perFeed('', METRIC.slaLate, 'Sum')], width: 12 }),
    new cloudwatch.GraphWidget({
      title: 'Failed runs and failed validations per feed',
      left: [perFeed('', METRIC.runFailed, 'Sum'), perFeed('', METRIC.validationFailed, 'Sum')],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Pipeline executions',
      left: [o.stateMachine.metricSucceeded(), o.stateMachine.metricFailed(), o.stateMachine.metricStarted()],
      width: 12,
    }),
    new cloudwatch.GraphWidget({ title: 'Schedules that failed to start', left: [o.deadLetterQueue.metricApproximateNumberOfMessagesVisible()], width: 12 }),
  );
  return dashboard;
}
