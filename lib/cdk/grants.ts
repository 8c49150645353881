import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { DeployConfigError } from './errors';
import type { KeyScopes } from './key-scopes';

/** S3 read/write grants on key patterns, with the bucket key when there is one. */
export class Grants {
  constructor(
    private readonly bucket: s3.IBucket,
    private readonly scopes: KeyScopes,
    private readonly key?: kms.IKey,
  ) {}

  read(fn: lambda.IFunction, patterns: readonly string[], list = false): void {
    if (patterns.length)
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: patterns.map((p) => this.bucket.arnForObjects(p)) }),
      );
    if (list) this.list(fn);
    if (this.key && patterns.length) this.key.grantDecrypt(fn);
  }

  readWrite(fn: lambda.IFunction, patterns: readonly string[], list = false): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: patterns.map((p) => this.bucket.arnForObjects(p)),
      }),
    );
    if (list) this.list(fn);
    if (this.key) this.key.grant(fn, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*');
  }

  readDelete(fn: lambda.IFunction, patterns: readonly string[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject'],
        resources: patterns.map((p) => this.bucket.arnForObjects(p)),
      }),
    );
    if (this.key) this.key.grantDecrypt(fn);
  }

  private listed = new Set<lambda.IFunction>();
  private list(fn: lambda.IFunction): void {
    if (this.listed.has(fn)) return;
    this.listed.add(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        // IfExists: S3 also checks ListBucket, without any s3:prefix, to answer 404 rather than 403
        // for a missing key (a first lease, manifest or pointer); the store reads 404 as "absent".
        conditions: { StringLikeIfExists: { 's3:prefix': [this.scopes.listPrefix] } },
      }),
    );
  }
}

export function publishTo(fn: lambda.IFunction, topicArns: readonly string[], key: kms.IKey): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [...topicArns] }));
  key.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey*');
}

export function putEvents(fn: lambda.IFunction, stack: Stack): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
    }),
  );
}

export function parseS3Location(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new DeployConfigError(`FileExchange: sources.s3Locations: ${JSON.stringify(url)} is not an S3 location; write s3://bucket/prefix/`);
  const prefix = m[2] ?? '';
  return { bucket: m[1], prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix };
}
