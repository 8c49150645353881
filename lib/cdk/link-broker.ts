import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { dropkitFunction } from './dropkit-function';
import type { Grants } from './grants';
import type { KeyScopes } from './key-scopes';
import { linkBrokerApi } from './link-broker-api';
import { ENV } from '../core/deploy-contract';

export interface LinkBrokerProps {
  readonly environment: Record<string, string>;
  readonly feedsFile: string;
  readonly grants: Grants;
  readonly scopes: KeyScopes;
  readonly partnerIds: readonly string[];
  readonly partnerSecretPrefix: string;
  readonly rate: number;
  readonly removalPolicy: RemovalPolicy;
  readonly iamPartners: Readonly<Record<string, string>>;
  readonly cloudWatchRole: boolean;
  readonly base: string;
  /** The pipeline: approvers' decisions resume its executions waiting for sign-off (SendTaskSuccess). */
  readonly stateMachine: sfn.IStateMachine;
}

/** The partners' API for fresh links: the broker and key authorizer functions behind API Gateway, a key-hash secret and usage plan per partner. */
export class LinkBroker extends Construct {
  readonly api: apigw.RestApi;
  readonly broker: nodejs.NodejsFunction;
  readonly authorizer: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: LinkBrokerProps) {
    super(scope, id);
    this.broker = dropkitFunction(this, 'linkBroker', props.environment, props.feedsFile);
    // The authorizer reads only the partner secrets: it gets nothing else of the environment.
    this.authorizer = dropkitFunction(this, 'partnerAuthorizer', { [ENV.partnerSecretPrefix]: props.partnerSecretPrefix }, props.feedsFile);
    props.grants.read(this.broker, [...props.scopes.drops], true);
    // Sign-off: the broker records an approver's decision with the hold and resumes that execution, on this state machine only.
    props.grants.readWrite(this.broker, [props.scopes.approvals]);
    props.stateMachine.grantTaskResponse(this.broker);
    this.authorizer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [
          Stack.of(this).formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${props.partnerSecretPrefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.api = linkBrokerApi(this, {
      broker: this.broker,
      authorizer: this.authorizer,
      partnerIds: props.partnerIds,
      rate: props.rate,
      removalPolicy: props.removalPolicy,
      iamPartners: props.iamPartners,
      partnerSecretPrefix: props.partnerSecretPrefix,
      cloudWatchRole: props.cloudWatchRole,
      base: props.base,
    });
  }
}
