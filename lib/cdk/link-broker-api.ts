import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { acknowledge } from './acknowledgements';
import { ENV } from '../core/deploy-contract';
import { DeployConfigError } from './errors';

/** API Gateway (REST) in front of the link broker: a Lambda authorizer per partner key, a usage plan per partner for throttling, access logs. */
export interface LinkBrokerApiOptions {
  readonly broker: nodejs.NodejsFunction;
  readonly authorizer: nodejs.NodejsFunction;
  readonly partnerIds: readonly string[];
  /** Requests per second per partner. */
  readonly rate: number;
  readonly removalPolicy: RemovalPolicy;
  readonly iamPartners: Readonly<Record<string, string>>;
  /** Secrets Manager name prefix of the partners' key hashes. */
  readonly partnerSecretPrefix: string;
  /** Whether to set API Gateway's account CloudWatch role (access logging needs one in the account and region). */
  readonly cloudWatchRole: boolean;
  /** The construct's name base, after the partner id in each API key's name. */
  readonly base: string;
}

export function linkBrokerApi(scope: Construct, o: LinkBrokerApiOptions): apigw.RestApi {
  const { partnerIds, rate, removalPolicy, iamPartners } = o;
  const iamAccounts = Object.entries(iamPartners);
  for (const [id, account] of iamAccounts) {
    if (!partnerIds.includes(id))
      throw new DeployConfigError(`FileExchange: iamPartners.${id}: no feed has a partner "${id}" (partners: ${partnerIds.join(', ')})`);
    if (!/^\d{12}$/.test(account)) throw new DeployConfigError(`FileExchange: iamPartners.${id}: "${account}" is not a 12-digit AWS account id`);
  }
  const accessLogs = new logs.LogGroup(scope, 'LinkBrokerAccessLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
  const api = new apigw.RestApi(scope, 'LinkBroker', {
    description: "dropkit link broker: fresh download links to a partner's own drops",
    endpointTypes: [apigw.EndpointType.REGIONAL],
    // Access logging is refused until the account and region have API Gateway's CloudWatch role:
    // set it here unless another stack does. Retained: every API of the account relies on it.
    cloudWatchRole: o.cloudWatchRole,
    cloudWatchRoleRemovalPolicy: o.cloudWatchRole ? RemovalPolicy.RETAIN : undefined,
    // SigV4 callers are let in by account (IAM auth); key callers by the authorizer (an implicit deny here does not stop them).
    policy: iamAccounts.length
      ? new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['execute-api:Invoke'],
              principals: iamAccounts.map(([, a]) => new iam.AccountPrincipal(a)),
              resources: ['execute-api:/*/GET/iam/*'],
            }),
          ],
        })
      : undefined,
    deployOptions: {
      stageName: 'v1',
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      tracingEnabled: true,
      metricsEnabled: true,
      throttlingRateLimit: Math.max(rate * Math.max(partnerIds.length, 1), 10),
      throttlingBurstLimit: Math.max(rate * 2 * Math.max(partnerIds.length, 1), 20),
    },
  });
  const cloudWatchRole = api.node.tryFindChild('CloudWatchRole');
  if (cloudWatchRole)
    acknowledge(cloudWatchRole.node.defaultChild ?? cloudWatchRole, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]':
        "AmazonAPIGatewayPushToCloudWatchLogs is the policy API Gateway's account-wide logging role is documented with; it is the role's whole purpose",
    });
  const authorizer = new apigw.TokenAuthorizer(scope, 'PartnerAuthorizer', {
    handler: o.authorizer,
    identitySource: apigw.IdentitySource.header('Authorization'),
    resultsCacheTtl: Duration.minutes(5),
  });
  const validator = api.addRequestValidator('Params', { validateRequestParameters: true, validateRequestBody: true });
  const integration = new apigw.LambdaIntegration(o.broker);
  const method = (resource: apigw.IResource, params: Record<string, boolean>) =>
    resource.addMethod('GET', integration, {
      authorizer,
      authorizationType: apigw.AuthorizationType.CUSTOM,
      apiKeyRequired: true,
      requestValidator: validator,
      requestParameters: params,
    });
  const feed = api.root.addResource('feeds').addResource('{feed}');
  const methods = [
    method(feed.addResource('latest'), { 'method.request.path.feed': true }),
    method(feed.addResource('slots').addResource('{slot}'), {
      'method.request.path.feed': true,
      'method.request.path.slot': true,
      'method.request.querystring.run': false,
    }),
  ];
  // Sign-off: approvers are people of this account signing with their own AWS identity (SigV4; IAM
  // auth, no partner key and no API key), allowed by their identity policy (execute-api:Invoke on
  // GET|POST/approvals/*); the broker takes the approver from the caller's ARN. GET shows the held
  // drop (preview, profile), POST decides.
  const held = api.root.addResource('approvals').addResource('{feed}').addResource('slots').addResource('{slot}');
  for (const verb of ['GET', 'POST'])
    methods.push(
      held.addMethod(verb, integration, {
        authorizationType: apigw.AuthorizationType.IAM,
        apiKeyRequired: false,
        requestValidator: validator,
        requestParameters: { 'method.request.path.feed': true, 'method.request.path.slot': true, 'method.request.querystring.partner': false },
      }),
    );
  if (iamAccounts.length) {
    const iamMethod = (resource: apigw.IResource, params: Record<string, boolean>) =>
      resource.addMethod('GET', integration, {
        authorizationType: apigw.AuthorizationType.IAM,
        apiKeyRequired: false,
        requestValidator: validator,
        requestParameters: params,
      });
    const iamFeed = api.root.addResource('iam').addResource('feeds').addResource('{feed}');
    methods.push(
      iamMethod(iamFeed.addResource('latest'), { 'method.request.path.feed': true }),
      iamMethod(iamFeed.addResource('slots').addResource('{slot}'), {
        'method.request.path.feed': true,
        'method.request.path.slot': true,
        'method.request.querystring.run': false,
      }),
    );
    o.broker.addEnvironment(ENV.iamPartners, JSON.stringify(Object.fromEntries(iamAccounts.map(([id, a]) => [a, id]))));
  }
  for (const m of methods)
    acknowledge(m, {
      'AwsSolutions-COG4':
        'partners are machines authenticated by a Lambda authorizer on per-partner keys (stored hashed) or by IAM (SigV4); there are no Cognito users',
    });
  acknowledge(api.deploymentStage, {
    'AwsSolutions-APIG3':
      'the API serves authenticated partners only, throttled per partner by usage plans; add a WAF web ACL in the stack if your policy requires one',
    'AwsSolutions-APIG6':
      'access logs are on (one line per request); execution logging is left off, as it would log request details of partner calls for no operational gain',
  });

  for (const id of partnerIds) {
    const secret = new secretsmanager.Secret(scope, `PartnerKey-${id}`, {
      secretName: `${o.partnerSecretPrefix}${id}`,
      description: `dropkit: SHA-256 of partner ${id}'s link broker key, as {"sha256":"<hex>"}; put a new value to rotate (no deploy)`,
      // A placeholder without "sha256": the partner is refused until an operator stores a hash.
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'unset', excludePunctuation: true },
      removalPolicy,
    });
    acknowledge(secret, {
      'AwsSolutions-SMG4':
        'the secret holds the hash of a key the partner keeps: rotating it means handing the partner a new key, then putting its hash here (no deploy); nothing can rotate it alone',
    });
    // Named partner first (the name query matches a prefix), then the construct: `--name-query acme` finds it.
    const key = api.addApiKey(`ApiKey-${id}`, {
      apiKeyName: `${id}.${o.base}`,
      description: `dropkit partner ${id}: throttling only (the authorizer authenticates)`,
    });
    const plan = api.addUsagePlan(`UsagePlan-${id}`, {
      description: `dropkit partner ${id}`,
      throttle: { rateLimit: rate, burstLimit: rate * 2 },
      apiStages: [{ api, stage: api.deploymentStage }],
    });
    plan.addApiKey(key);
  }
  return api;
}
