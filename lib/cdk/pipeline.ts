import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FeedDefinition } from '../core/feed/feed-definition';
import { grantDestinations } from './destinations';
import { dropkitFunction } from './dropkit-function';
import type { SourceAccess } from './file-exchange-props';
import { Grants, publishTo, putEvents } from './grants';
import type { KeyScopes } from './key-scopes';
import { pipelineDefinition } from './pipeline-definition';
import type { QueryResources } from './query-resources';

/** The step functions the state machine invokes. */
export const PIPELINE_ROLES = ['plan', 'compileStage', 'completeStage', 'validate', 'render', 'approve', 'publish', 'push', 'notify', 'failRun'] as const;
export type PipelineRole = (typeof PIPELINE_ROLES)[number];

export interface PipelineProps {
  readonly environment: Record<string, string>;
  readonly feedsFile: string;
  /** The project's feeds: the push function's grants come from their destinations. */
  readonly feeds: readonly FeedDefinition[];
  readonly grants: Grants;
  readonly scopes: KeyScopes;
  readonly query: QueryResources;
  readonly feedTopicArns: string;
  readonly opsTopic: sns.Topic;
  readonly topicKey: kms.IKey;
  readonly sourceDatabase?: string;
  readonly sources: SourceAccess;
  readonly encryptionKey?: kms.IKey;
  readonly pollInterval: Duration;
  readonly partnerConcurrency: number;
  /** Unique lower-case name stem of the construct, for names AWS needs unique. */
  readonly base: string;
}

/** One state machine running a slot of any feed through the step functions, each granted the key scopes it touches and no more. */
export class Pipeline extends Construct {
  readonly functions: Readonly<Record<PipelineRole, nodejs.NodejsFunction>>;
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const fns = Object.fromEntries(PIPELINE_ROLES.map((role) => [role, dropkitFunction(this, role, props.environment, props.feedsFile)])) as Record<
      PipelineRole,
      nodejs.NodejsFunction
    >;
    this.functions = fns;
    const { grants, scopes, query, feedTopicArns, topicKey } = props;
    // plan: takes the lease, records the run, clears a dead attempt's staging and files; repairs a delivered run's pointer.
    grants.readWrite(fns.plan, [scopes.latest, scopes.leases, scopes.runs], true);
    grants.readDelete(fns.plan, [scopes.dropFiles, scopes.staging]);
    publishTo(fns.plan, [feedTopicArns], topicKey);
    putEvents(fns.plan, stack);
    // compile-stage only writes SQL text: no data access.
    // Athena writes a query's results with the caller's rights: the engine puts them under the attempt's staging.
    grants.read(fns.completeStage, [scopes.results], true);
    grants.readWrite(fns.completeStage, [scopes.leases, scopes.staging]);
    query.grantQueries(fns.completeStage, false);
    grants.read(fns.validate, [...scopes.drops, scopes.runs], true);
    grants.readWrite(fns.validate, [scopes.leases, scopes.staging, scopes.results]);
    query.grantQueries(fns.validate, false);
    grants.readWrite(fns.render, [scopes.staging, scopes.results], true);
    query.grantQueries(fns.render, false);
    // approve: reads the previous manifest, holds the slot's lease to the approval deadline, records the hold, tells the approvers (ops topic).
    grants.read(fns.approve, [...scopes.drops], true);
    grants.readWrite(fns.approve, [scopes.leases, scopes.approvals]);
    publishTo(fns.approve, [props.opsTopic.topicArn], topicKey);
    putEvents(fns.approve, stack);
    grants.readWrite(fns.publish, [...scopes.drops, scopes.leases, scopes.runs, scopes.staging, scopes.results], true);
    query.grantQueries(fns.publish, true);
    // push: reads the drop (to send it) and writes what it sent (delivery records, the run record),
    // renewing the slot's lease as it goes; what it may reach outside the bucket is derived from the
    // feeds (lib/cdk/destinations.ts).
    grants.read(fns.push, [scopes.dropFiles]);
    // ListBucket: a delivery record not yet written must read as absent (404), not as refused (403).
    grants.readWrite(fns.push, [scopes.runs, scopes.deliveries, scopes.leases], true);
    grantDestinations(stack, props.feeds, fns.push);
    // Diff syncs: Athena reads the two drops' Parquet as the push function and writes the change sets under _deliveries/.
    query.grantQueries(fns.push, true);
    query.grantDiffTables(fns.push);
    grants.read(fns.notify, [...scopes.drops], true);
    grants.readWrite(fns.notify, [scopes.runs, scopes.leases]);
    publishTo(fns.notify, [feedTopicArns], topicKey);
    putEvents(fns.notify, stack);
    grants.readWrite(fns.failRun, [...scopes.drops, scopes.leases, scopes.runs, scopes.staging, scopes.results], true);
    query.grantQueries(fns.failRun, true);
    publishTo(fns.failRun, [props.opsTopic.topicArn], topicKey);
    putEvents(fns.failRun, stack);

    // Under /aws/vendedlogs/: Step Functions then needs no CloudWatch Logs resource policy, whose size limit many log groups outgrow.
    const machineLogs = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${props.base}-pipeline`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'dropkit: one slot of one feed, for each partner it goes to',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(
        pipelineDefinition(new Construct(this, 'States'), {
          functions: fns,
          workGroupName: query.workGroup.ref,
          sourceDatabase: props.sourceDatabase,
          opsTopic: props.opsTopic,
          pollInterval: props.pollInterval,
          partnerConcurrency: props.partnerConcurrency,
        }),
      ),
      timeout: Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: machineLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    query.grantStageQuery(this.stateMachine.role, scopes, props.sources, props.encryptionKey);
    props.opsTopic.grantPublish(this.stateMachine);
    // AwaitApproval invokes the approve function through the .waitForTaskToken integration (a custom state: no automatic grant).
    fns.approve.grantInvoke(this.stateMachine);
  }
}
