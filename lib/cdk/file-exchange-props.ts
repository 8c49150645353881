import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { FeedDefinition } from '../core/feed/feed-definition';

/** Where the feeds' SQL reads from: the engineers' existing tables. Roles get read access to these and nothing broader. */
export interface SourceAccess {
  /**
   * Glue databases and tables the feed SQL reads.
   * @default none
   */
  readonly glueTables?: readonly { readonly database: string; readonly tables?: readonly string[] }[];
  /**
   * S3 locations of those tables' data, as `s3://bucket/prefix/`.
   * @default none
   */
  readonly s3Locations?: readonly string[];
  /**
   * KMS keys the source data is encrypted with.
   * @default none
   */
  readonly kmsKeys?: readonly kms.IKey[];
  /**
   * The same, by ARN (as a project's `aws.kmsKeyArns` names them): decrypt only.
   * @default none
   */
  readonly kmsKeyArns?: readonly string[];
}

/** The hook for the SLA watch (its logic comes with the SLA work): a function run on a schedule. */
export interface SlaWatchProps {
  /**
   * Whether the SLA watch runs. It is a dead man's switch: it alerts on a slot past its deadline
   * without a delivered drop even when no run ever started.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * When it runs. One frequent watch over all feeds keeps every deadline within this delay, DST
   * gaps included, without a schedule per deadline.
   * @default every 5 minutes
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /**
   * A function of your own to run instead of dropkit's watch.
   * @default - dropkit's SLA watch (lambdas/sla-watch.ts)
   */
  readonly handler?: lambda.IFunction;
}

export interface FileExchangeProps {
  /** The project's feeds, validated (`loadProject(dir).feeds`). */
  readonly feeds: readonly FeedDefinition[];
  /**
   * The project's key prefix in the drops bucket (the layout's `prefix`).
   * @default 'drops'
   */
  readonly keyPrefix?: string;
  /**
   * A customer-managed key for the drops bucket, Athena results and staging: every object dropkit
   * writes names it (SSE-KMS). With `existingBucket`, the key that bucket's objects are written with.
   * @default S3-managed encryption (SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Your own drops bucket instead of a new one (versioning on, public access blocked, TLS only are
   * yours to set). The lifecycle rules are added when it is an `s3.Bucket` of this app; for an
   * imported bucket, expire `<prefix>/_staging/` and `_athena-results/` yourself.
   * @default - a new bucket, versioned, encrypted, access-logged, TLS only, with lifecycle rules
   */
  readonly existingBucket?: s3.IBucket;
  /**
   * Whether the stack sets API Gateway's account-wide CloudWatch Logs role (one per account and
   * region), which the link broker's access logs need. Set false when another stack of the
   * account and region already does it. The role is retained when the stack is deleted, since
   * every API of the account and region relies on it.
   * @default true
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /**
   * The source tables and data the feeds read.
   * @default none: the feeds can read nothing but what the roles get elsewhere
   */
  readonly sources?: SourceAccess;
  /**
   * The Glue database unqualified table names in the feed SQL resolve in.
   * @default Athena's `default` database
   */
  readonly sourceDatabase?: string;
  /**
   * Per-query cost guard of the Athena workgroup, in bytes scanned.
   * @default 10 GiB
   */
  readonly bytesScannedCutoffPerQuery?: number;
  /**
   * Whether the workgroup overrides the queries' own result location and encryption. Athena fails
   * a CTAS that names an `external_location` in a workgroup that enforces its result location, and
   * the Athena engine stages each run with `external_location` under the run attempt's staging
   * prefix (so a run's staging is one prefix to scope, expire and delete); so it is off unless the
   * engine stages without it. The per-query bytes-scanned cutoff, results location (for queries
   * that name none) and engine version apply either way.
   * @default false
   */
  readonly enforceWorkGroupConfiguration?: boolean;
  /**
   * How many partners of a per-partner feed run at once.
   * @default 4
   */
  readonly partnerConcurrency?: number;
  /**
   * Wait between two looks at a running stage query.
   * @default 10 seconds
   */
  readonly queryPollInterval?: Duration;
  /**
   * Staging left behind by a dead run expires after this.
   * @default 3 days
   */
  readonly stagingExpiration?: Duration;
  /**
   * Old versions of overwritten or deleted objects expire after this.
   * @default 30 days
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * The slot lease's time to live: a run that dies frees its slot after this. Longer than the
   * longest step (15 minutes).
   * @default 2 hours
   */
  readonly leaseTtl?: Duration;
  /**
   * What happens to the buckets when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Requests per second per partner at the link broker (and twice that as burst).
   * @default 5
   */
  readonly partnerRateLimit?: number;
  /**
   * Partners with AWS accounts, by partner id → 12-digit account id: they call the link broker's
   * `/iam/…` routes signed with SigV4 (IAM auth), and the broker knows them by their account.
   * @default none: every partner uses its key
   */
  readonly iamPartners?: Readonly<Record<string, string>>;
  /**
   * The SLA watch: a missed slot raises an alert even if its run never started.
   * @default - dropkit's watch, every 5 minutes
   */
  readonly slaWatch?: SlaWatchProps;
  /**
   * Per-feed resources (schedule, topic) go into nested stacks of this many feeds once the project
   * has more than `inlineFeedLimit` feeds, to stay within CloudFormation's 500 resources per stack.
   * @default 120
   */
  readonly feedsPerNestedStack?: number;
  /**
   * Up to this many feeds, per-feed resources stay in the construct's own stack.
   * @default 40
   */
  readonly inlineFeedLimit?: number;
}
