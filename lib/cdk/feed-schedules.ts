import { Aws, Duration, NestedStack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deliveryPartners, FeedDefinition } from '../core/feed/feed-definition';
import { acknowledge } from './acknowledgements';

export interface FeedSchedulesProps {
  readonly feeds: readonly FeedDefinition[];
  readonly stateMachine: sfn.IStateMachine;
  readonly base: string;
  /** Feed topics are named `<feedTopicPrefix><feed>`, so a function finds one from the feed name alone. */
  readonly feedTopicPrefix: string;
  readonly topicKey: kms.IKey;
  /** Up to this many feeds, their topics and schedules stay in this stack; past it, nested stacks of `feedsPerNestedStack`. */
  readonly inlineFeedLimit: number;
  readonly feedsPerNestedStack: number;
}

/** Per feed, an SNS topic and a schedule starting the pipeline with the slot and its partners; the schedules' group, role and dead-letter queue. */
export class FeedSchedules extends Construct {
  readonly deadLetterQueue: sqs.Queue;
  readonly group: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;
  readonly topics: ReadonlyMap<string, sns.Topic>;

  constructor(scope: Construct, id: string, props: FeedSchedulesProps) {
    super(scope, id);
    const { feeds } = props;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.deadLetterQueue, {
      'AwsSolutions-SQS3': 'this queue is the dead-letter queue of the schedules',
      'Serverless-SQSRedrivePolicy': 'this queue is the dead-letter queue of the schedules; nothing consumes it to redrive from',
    });
    this.group = new scheduler.ScheduleGroup(this, 'Group', { scheduleGroupName: `${props.base}-dropkit` });
    this.schedulerRole = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'dropkit: EventBridge Scheduler starts the pipeline',
    });
    const topics = new Map<string, sns.Topic>();
    const inline = feeds.length <= props.inlineFeedLimit;
    const perNested = props.feedsPerNestedStack;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the scope switches to a nested stack every perNested feeds
    let feedScope: Construct = this;
    feeds.forEach((feed, i) => {
      if (!inline && i % perNested === 0)
        feedScope = new NestedStack(this, `Feeds${i / perNested + 1}`, { description: `dropkit feeds ${i + 1}-${Math.min(i + perNested, feeds.length)}` });
      const name = feed.spec.name;
      const pascal = name.replace(/(^|[_-])([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());
      topics.set(
        name,
        new sns.Topic(feedScope, `${pascal}Topic`, {
          topicName: `${props.feedTopicPrefix}${name}`,
          displayName: `dropkit ${name}`,
          masterKey: props.topicKey,
          enforceSSL: true,
        }),
      );
      new scheduler.Schedule(feedScope, `${pascal}Schedule`, {
        description: `dropkit ${name}: ${feed.spec.schedule.cron} in ${feed.spec.schedule.timezone}`,
        schedule: scheduler.ScheduleExpression.expression(feed.eventBridgeCron, TimeZone.of(feed.spec.schedule.timezone)),
        scheduleGroup: this.group,
        timeWindow: scheduler.TimeWindow.off(),
        target: new schedulerTargets.StepFunctionsStartExecution(props.stateMachine, {
          role: this.schedulerRole,
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 10,
          maxEventAge: Duration.hours(6),
          input: scheduler.ScheduleTargetInput.fromObject({ feed: name, slot: scheduler.ContextAttribute.scheduledTime, partners: deliveryPartners(feed) }),
        }),
      });
    });
    this.topics = topics;
  }
}
