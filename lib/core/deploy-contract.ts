/**
 * The contract between the CDK construct and the Lambda handlers it deploys: environment variable
 * names, metric names, and the deployed defaults. Both sides import it from here, and nothing else
 * (no SDK, no CDK), so a handler that needs one name bundles no other client.
 */

/** The environment variables the construct sets and `lambdas/runtime.ts` reads. */
export const ENV = {
  bucket: 'DROPKIT_BUCKET',
  prefix: 'DROPKIT_PREFIX',
  workgroup: 'DROPKIT_WORKGROUP',
  stagingDatabase: 'DROPKIT_STAGING_DATABASE',
  sourceDatabase: 'DROPKIT_SOURCE_DATABASE',
  opsTopicArn: 'DROPKIT_OPS_TOPIC_ARN',
  feedTopicArnPrefix: 'DROPKIT_FEED_TOPIC_ARN_PREFIX',
  /** Not set by the construct (events go to the account's default bus): an override for a hand-built deployment. */
  eventBusName: 'DROPKIT_EVENT_BUS',
  leaseTtlSeconds: 'DROPKIT_LEASE_TTL_SECONDS',
  partnerSecretPrefix: 'DROPKIT_PARTNER_SECRET_PREFIX',
  /** Not set by the construct (the feeds are bundled beside each handler): an override for tests and hand-built bundles. */
  feedsFile: 'DROPKIT_FEEDS_FILE',
  /** The drops bucket's customer-managed KMS key: every object dropkit writes names it (SSE-KMS). */
  kmsKeyArn: 'DROPKIT_KMS_KEY_ARN',
  /** Partner account id → partner id, for the link broker's SigV4 routes. */
  iamPartners: 'DROPKIT_IAM_PARTNERS',
} as const;

/** The variables handlers read that the construct leaves unset on purpose (each says why above). */
export const ENV_NOT_SET_BY_CONSTRUCT: readonly string[] = [ENV.feedsFile, ENV.eventBusName];

/** What a handler assumes when a variable is unset (a hand-built deployment; the construct sets them all). */
export const RUNTIME_DEFAULTS = {
  workgroup: 'primary',
  stagingDatabase: 'dropkit_staging',
  partnerSecretPrefix: 'dropkit/partners/',
} as const;

/** Metric names the handlers emit and the stack's dashboard and alarms read (namespace {@link METRICS_NAMESPACE}, dimension `feed`). */
export const METRIC = {
  rows: 'Rows',
  bytes: 'Bytes',
  deliveryLatency: 'DeliveryLatencySeconds',
  slaMet: 'SlaMet',
  slaLate: 'SlaLate',
  /** A slot passed its deadline (+ grace) without a drop: counted once, when the watch first sees it. */
  slaMissed: 'SlaMissed',
  validationFailed: 'ValidationFailed',
  runFailed: 'RunFailed',
  delivered: 'Delivered',
} as const;

export const METRICS_NAMESPACE = 'dropkit';
/** Powertools' service name: a dimension of every metric. */
export const METRICS_SERVICE = 'dropkit';

/**
 * The slot lease's time to live on AWS: longer than a whole run (stage query plus the 15-minute
 * steps), so a live execution never loses its slot; a dead one frees it after this.
 */
export const DEPLOYED_LEASE_TTL_SECONDS = 2 * 60 * 60;

/** The change engine's temporary tables in the staging database (Athena's diff) start with this: the push function makes them, the construct grants them. */
export const DIFF_TABLE_PREFIX = 'dropkit_diff_';

/** The drops bucket key prefix when the project names none. */
export const DEFAULT_KEY_PREFIX = 'drops';

/** Up to this many feeds, per-feed resources (schedule, topic, topic policy) stay in the construct's own stack. */
export const DEFAULT_INLINE_FEED_LIMIT = 40;
/** Past {@link DEFAULT_INLINE_FEED_LIMIT}, per-feed resources go into nested stacks of this many feeds. */
export const DEFAULT_FEEDS_PER_NESTED_STACK = 120;
