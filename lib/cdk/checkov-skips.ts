import { CfnResource, IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Checkov's findings on the construct that are deliberate, each with its reason: written into the
 * template as `Metadata.checkov.skip` (what checkov reads), as the cdk-nag acknowledgements are
 * written beside the resources. A finding not listed here fails `npm run test:aws`.
 */
export const CHECKOV_SKIPS: readonly { readonly id: string; readonly type: string; readonly logicalId?: RegExp; readonly reason: string }[] = [
  {
    id: 'CKV_AWS_18',
    type: 'AWS::S3::Bucket',
    logicalId: /AccessLogs/,
    reason: 'this is the access-log bucket: logging it into itself would log its own log writes',
  },
  {
    id: 'CKV_AWS_21',
    type: 'AWS::S3::Bucket',
    logicalId: /AccessLogs/,
    reason: 'access logs are written once by S3 and expired by lifecycle; versions would only keep deleted logs longer',
  },
  {
    id: 'CKV_AWS_82',
    type: 'AWS::Athena::WorkGroup',
    reason:
      'Athena fails a CTAS with external_location in a workgroup that enforces its configuration; the engine stages each run there (prop enforceWorkGroupConfiguration); results are still encrypted by the workgroup setting',
  },
  {
    id: 'CKV_AWS_158',
    type: 'AWS::Logs::LogGroup',
    reason: 'CloudWatch Logs encrypts every log group at rest; these logs carry run ids and step outcomes, never rows of a drop',
  },
  {
    id: 'CKV_AWS_116',
    type: 'AWS::Lambda::Function',
    reason:
      'invoked synchronously (Step Functions tasks with Retry/Catch, API Gateway) or by EventBridge Scheduler with its own dead-letter queue: an async DLQ would never receive anything',
  },
  {
    id: 'CKV_AWS_117',
    type: 'AWS::Lambda::Function',
    reason:
      'the functions call only AWS APIs (S3, Athena, SNS, EventBridge, Secrets Manager) over TLS; a VPC would add NAT or endpoints and reach nothing more',
  },
  {
    id: 'CKV_AWS_115',
    type: 'AWS::Lambda::Function',
    reason:
      "concurrency is bounded by the state machine's Map concurrency and the schedules; reserved concurrency would take from the account pool and throttle catch-up runs",
  },
  {
    id: 'CKV_AWS_173',
    type: 'AWS::Lambda::Function',
    reason: 'the environment holds resource names and ARNs only, no secret (partner keys live in Secrets Manager); Lambda encrypts it at rest',
  },
  {
    id: 'CKV_AWS_27',
    type: 'AWS::SQS::Queue',
    reason: "encrypted with SQS-managed SSE (SqsManagedSseEnabled); checkov's CloudFormation check recognises only a KMS key",
  },
  {
    id: 'CKV_AWS_120',
    type: 'AWS::ApiGateway::Stage',
    reason: 'the link broker answers with fresh, per-partner presigned links: a cache would hand out stale links, or one partner’s links to another',
  },
  {
    id: 'CKV_AWS_149',
    type: 'AWS::SecretsManager::Secret',
    reason: "each secret holds only the SHA-256 of a partner's key, never the key; the AWS-managed key suffices",
  },
];

/** Writes the reasoned checkov skips onto the resources they concern. */
export class CheckovSkips implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) return;
    const skips = CHECKOV_SKIPS.filter((s) => s.type === node.cfnResourceType && (!s.logicalId || s.logicalId.test(node.node.path)));
    if (skips.length) node.addMetadata('checkov', { skip: skips.map((s) => ({ id: s.id, comment: s.reason })) });
  }
}
