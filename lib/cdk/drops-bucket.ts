import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { FeedDefinition } from '../core/feed/feed-definition';
import { feedRoot, stagingRoot } from '../core/layout';

export interface DropsBucketProps {
  readonly feeds: readonly FeedDefinition[];
  /** The layout's prefix with its slash (`drops/`), or '' for the bucket root. */
  readonly under: string;
  readonly resultsPrefix: string;
  readonly encryptionKey?: kms.IKey;
  readonly existingBucket?: s3.IBucket;
  readonly removalPolicy: RemovalPolicy;
  readonly stagingExpiration: Duration;
  readonly noncurrentVersionExpiration: Duration;
}

/**
 * The drops bucket (versioned, encrypted, TLS only, private, access-logged) and its lifecycle:
 * incomplete uploads, old versions, dead staging, Athena results and each feed past its retention.
 * With `existingBucket` nothing is created; the rules are added when the bucket is defined in the
 * same app (an imported bucket's lifecycle is its owner's).
 */
export class DropsBucket extends Construct {
  readonly bucket: s3.IBucket;
  /** The access-log bucket, when the construct made the drops bucket. */
  readonly logBucket?: s3.Bucket;

  constructor(scope: Construct, id: string, props: DropsBucketProps) {
    super(scope, id);
    const { under, removalPolicy } = props;
    const prefix = under.replace(/\/$/, '');
    const rules: s3.LifecycleRule[] = [
      { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: props.noncurrentVersionExpiration, expiredObjectDeleteMarker: true },
      { id: 'expire-staging', prefix: `${stagingRoot(prefix)}/`, expiration: props.stagingExpiration },
      { id: 'expire-athena-results', prefix: props.resultsPrefix, expiration: Duration.days(7) },
      // The runs apply each feed's retention themselves (keeping the drop latest.json points at);
      // this catches what no run comes back for, a week later.
      ...props.feeds
        .filter((f) => f.spec.retention)
        .map((f) => ({
          id: `retention-${f.spec.name}`,
          prefix: feedRoot({ prefix, feed: f.spec.name, partner: null }),
          expiration: Duration.days(f.spec.retention!.days + 7),
        })),
    ];
    if (props.existingBucket) {
      this.bucket = props.existingBucket;
      if (props.existingBucket instanceof s3.Bucket) for (const rule of rules) props.existingBucket.addLifecycleRule(rule);
      return;
    }
    this.logBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Drops', {
      versioned: true,
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: props.encryptionKey ? true : undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'drops-bucket/',
      removalPolicy,
      lifecycleRules: rules,
    });
  }
}
