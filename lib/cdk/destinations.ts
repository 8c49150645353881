import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { acknowledge, wildcardFindings } from './acknowledgements';
import { destinationsOf, undeployableDestinations } from '../core/destinations/deployable';
import { ConfigError } from '../core/errors';
import type { FeedDefinition } from '../core/feed/feed-definition';

/** Refuses at synth every destination the deployed push cannot serve, each with its fix. */
export function assertDestinationsDeployable(feeds: readonly FeedDefinition[]): void {
  const problems = undeployableDestinations(feeds);
  if (problems.length) throw new ConfigError(problems);
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
const trimSlashes = (p: string) => p.replace(/^\/+|\/+$/g, '');

function groupBy<T>(items: readonly T[], key: (t: T) => string, value: (t: T) => string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of items) out.set(key(t), [...(out.get(key(t)) ?? []), value(t)]);
  return out;
}

/**
 * Least privilege for the push function, derived from the feeds: sts:AssumeRole only on the
 * declared partner roles; for a bucket their policy opens to us, writes only under the declared
 * prefix (and their KMS key); transfer:StartFileTransfer and ListFileTransferResults only on the
 * declared connectors; secretsmanager:GetSecretValue only on the declared API secrets.
 */
export function grantDestinations(stack: Stack, feeds: readonly FeedDefinition[], grantee: lambda.IFunction): void {
  const specs = feeds.flatMap((f) => destinationsOf(f).map((d) => d.spec));
  const add = (actions: string[], resources: string[]) =>
    resources.length && grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  const s3 = specs.filter((s) => s.type === 's3');
  add(['sts:AssumeRole'], sorted(s3.flatMap((s) => (s.roleArn ? [s.roleArn] : []))));
  // Their bucket policy grants our role: our side must allow the same writes (HEAD of a sent object is a GetObject).
  const direct = s3.filter((s) => !s.roleArn);
  const partnerObjects = sorted(direct.map((s) => `arn:${stack.partition}:s3:::${s.bucket}/${trimSlashes(s.prefix) ? `${trimSlashes(s.prefix)}/` : ''}*`));
  add(['s3:PutObject', 's3:PutObjectAcl', 's3:GetObject', 's3:AbortMultipartUpload'], partnerObjects);
  // Each is a declared partner prefix, so its wildcard is acknowledged here, by name (any other bucket wildcard still fails the rule pack).
  const policy = grantee.role?.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
  if (policy && partnerObjects.length)
    acknowledge(
      policy,
      Object.fromEntries(
        wildcardFindings(stack.resolve({ Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: partnerObjects }] })).map((f) => [
          `AwsSolutions-IAM5[${f}]`,
          "a partner's bucket that grants us by its bucket policy (a destination without roleArn): writes only under the prefix the feed declares",
        ]),
      ),
    );
  // A resumed push asks (HEAD) whether a file is there: S3 answers 404 for a missing key only to a caller that may list.
  for (const [bucket, prefixes] of groupBy(
    direct,
    (s) => s.bucket,
    (s) => trimSlashes(s.prefix),
  ))
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [`arn:${stack.partition}:s3:::${bucket}`],
        conditions: { StringLikeIfExists: { 's3:prefix': sorted(prefixes.map((p) => (p ? `${p}/*` : '*'))) } },
      }),
    );
  add(['kms:GenerateDataKey', 'kms:Encrypt'], sorted(direct.flatMap((s) => (s.kmsKeyId ? [s.kmsKeyId] : []))));
  add(
    ['transfer:StartFileTransfer', 'transfer:ListFileTransferResults'],
    sorted(
      specs.flatMap((s) =>
        s.type === 'sftp' && s.connectorId ? [stack.formatArn({ service: 'transfer', resource: 'connector', resourceName: s.connectorId })] : [],
      ),
    ),
  );
  add(
    ['secretsmanager:GetSecretValue'],
    sorted(
      specs.flatMap((s) =>
        s.type === 'api' && s.secret
          ? [
              stack.formatArn({
                service: 'secretsmanager',
                resource: 'secret',
                resourceName: `${s.secret.name}-??????`,
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            ]
          : [],
      ),
    ),
  );
}
