import { Duration, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Alarms to the ops topic, and a dashboard of deliveries, lateness and failures per feed. */
export interface MonitoringOptions {
  readonly opsTopic: sns.ITopic;
  readonly stateMachine: sfn.StateMachine;
  readonly deadLetterQueue: sqs.Queue;
}

export function monitoring(scope: Construct, o: MonitoringOptions): cloudwatch.Dashboard {
  const toOps = new cwActions.SnsAction(o.opsTopic);
  const service = { service: 'dropkit' };
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
    new cloudwatch.Metric({ namespace: 'dropkit', metricName: name, dimensionsMap: service, statistic: 'Sum', period: Duration.minutes(5) });
  alarm(
    'FailedRunsAlarm',
    o.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
    'dropkit: a slot execution failed (a run failed, or the pipeline itself)',
  );
  alarm('ValidationFailedAlarm', sum('ValidationFailed'), 'dropkit: a run stopped on an error-severity check; nothing was published');
  alarm('SlaLateAlarm', sum('SlaLate'), 'dropkit: a drop was delivered after its SLA');
  alarm('SlaMissedAlarm', sum('SlaMissed'), 'dropkit: a slot passed its deadline without a drop (from the SLA watch)');
  alarm(
    'DeadLettersAlarm',
    o.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    'dropkit: a schedule could not start the pipeline (see the dead-letter queue)',
  );

  const perFeed = (label: string, metric: string, stat: string) =>
    new cloudwatch.MathExpression({ expression: `SEARCH('{dropkit,feed,service} MetricName="${metric}"', '${stat}', 3600)`, label, period: Duration.hours(1) });
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { dashboardName: `${Names.uniqueResourceName(scope, { maxLength: 60, separator: '-' })}` });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Deliveries per feed', left: [perFeed('', 'Delivered', 'Sum')], width: 12 }),
    new cloudwatch.GraphWidget({ title: 'Delivery latency after the slot (s), per feed', left: [perFeed('', 'DeliveryLatencySeconds', 'Maximum')], width: 12 }),
    new cloudwatch.GraphWidget({ title: 'Late deliveries per feed', left: [perFeed('', 'SlaLate', 'Sum')], width: 12 }),
    new cloudwatch.GraphWidget({
      title: 'Failed runs and failed validations per feed',
      left: [perFeed('', 'RunFailed', 'Sum'), perFeed('', 'ValidationFailed', 'Sum')],
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
