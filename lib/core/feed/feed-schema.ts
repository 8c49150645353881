import * as z from 'zod';
import { isDuration, MAX_DURATION_DAYS, MAX_DURATION_SECONDS, parseDurationSeconds } from '../duration';
import { checkSchema } from '../checks/registry';
import { relativeDropPrefix } from '../layout';

/**
 * The feed file (one YAML file per feed) and the project file, as zod schemas. The JSON Schemas
 * under `schemas/` are generated from these (`npm run schemas`) so editors can complete feed files.
 */

/** What to do about each rule, said beside the rule: config problems look it up by the rule's message. */
export const RULE_FIXES = new Map<string, string>();
function rule(message: string, fix: string): string {
  RULE_FIXES.set(message, fix);
  return message;
}

export const FEED_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
export const PARTNER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PARAM_NAME = /^[a-z_][a-z0-9_]*$/;
/** Names the pipeline binds itself; a feed may not redefine them. */
export const BUILTIN_PARAMETERS = ['window_start', 'window_end', 'slot', 'partner_id'] as const;

const duration = (what: string) =>
  z.string().refine(isDuration, {
    error: `must be an ISO-8601 duration of weeks, days, hours, minutes or seconds, e.g. PT2H or P1D (${what})`,
    params: { fix: 'write it as P<n>W, P<n>D or PT<n>H<n>M<n>S, e.g. PT2H, PT30M or P1D' },
  });

const positiveDuration = (what: string) =>
  duration(what).refine((d) => (parseDurationSeconds(d) ?? 0) > 0, {
    error: `must be longer than zero (${what})`,
    params: { fix: 'give a duration above zero, e.g. PT15M' },
  });

/** An SLA duration: at most a year and a day, so every deadline is a real date. */
const slaDuration = <T extends z.ZodType<string>>(schema: T) =>
  schema.refine((d) => (parseDurationSeconds(d) ?? 0) <= MAX_DURATION_SECONDS, {
    error: `must be at most ${MAX_DURATION_DAYS} days (P${MAX_DURATION_DAYS}D); an SLA point further from its slot is a typo`,
    params: { fix: `give a duration of at most P${MAX_DURATION_DAYS}D, e.g. PT2H or P1D` },
  });

const parameterValue = z.union([z.string(), z.number(), z.boolean()]);
const parameters = z
  .record(
    z.string().regex(PARAM_NAME, {
      error: rule('parameter names are lower_snake_case', 'rename it in lower_snake_case, e.g. min_amount, and use that name as $min_amount in the SQL'),
    }),
    parameterValue,
  )
  .refine((p) => !Object.keys(p).some((k) => (BUILTIN_PARAMETERS as readonly string[]).includes(k)), {
    error: rule(
      `${BUILTIN_PARAMETERS.join(', ')} are bound by dropkit and cannot be set here`,
      'remove it from parameters: dropkit binds it for every run; give your own parameter another name',
    ),
  })
  .superRefine((p, ctx) => {
    for (const [name, value] of Object.entries(p)) {
      // YAML numbers are doubles: past 2^53-1 an integer has already lost digits when it reaches us.
      if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `an integer beyond ${Number.MAX_SAFE_INTEGER} (2^53-1) loses digits as a YAML number (this one is read as ${String(value)}), so the query would get another value`,
          params: { fix: `quote it as a string (${name}: "12345678901234567890") and CAST it in SQL, e.g. CAST($${name} AS HUGEINT)` },
        });
      }
    }
  });

export const scheduleSchema = z
  .strictObject({
    cron: z.string().meta({ description: 'Standard 5-field cron: minute hour day-of-month month day-of-week' }),
    timezone: z.string().default('UTC').meta({ description: 'IANA time zone the cron is read in, e.g. Europe/Amsterdam' }),
  })
  .meta({ description: 'When slots occur. Each tick is a slot; its data interval runs from the previous tick.' });

export const slaSchema = z
  .strictObject({
    deliverWithin: slaDuration(positiveDuration('sla.deliverWithin')).optional().meta({ description: 'Deadline as a duration after the slot, e.g. PT2H' }),
    deadline: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, {
        error: rule('must be a local time HH:MM, e.g. 09:30', 'write the time as two-digit hours and minutes in quotes, e.g. "09:30"'),
      })
      .optional()
      .meta({ description: 'Deadline as a local wall-clock time (feed time zone), the first at or after the slot' }),
    warnAfter: slaDuration(positiveDuration('sla.warnAfter')).optional().meta({ description: 'Warn point after the slot' }),
    grace: slaDuration(duration('sla.grace')).default('PT0S').meta({ description: 'Extra time before a missing drop counts as MISSED' }),
    deliveredWhen: z.enum(['published', 'destinations']).optional().meta({
      description:
        "When a drop counts as delivered. published (default): when its manifest is written. destinations: when every destination of the drop (the feed's and the partner's) has it, at the time the last one finished",
    }),
  })
  .refine((s) => (s.deliverWithin === undefined) !== (s.deadline === undefined), {
    error: rule(
      'give exactly one of deliverWithin (a duration after the slot) or deadline (a local HH:MM time)',
      'keep either deliverWithin: PT2H or deadline: "09:00" under sla, not both (nor neither)',
    ),
  });

/** A calendar date YYYY-MM-DD that exists (no 2024-02-30). */
const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: rule('must be a date YYYY-MM-DD, e.g. 2024-12-25', 'write the date as YYYY-MM-DD, e.g. 2024-12-25') })
  .refine(
    (d) => {
      // Date rolls 2023-02-29 over into March; the round trip catches it. Runs after a failed regex too.
      const t = Date.parse(`${d}T00:00:00Z`);
      return !/^\d{4}-\d{2}-\d{2}$/.test(d) || (!Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d);
    },
    { error: rule('is not a date that exists (check day and month)', 'correct the day or month, e.g. 2024-02-29 exists, 2023-02-29 does not') },
  );

export const calendarSchema = z
  .strictObject({
    exceptDates: z
      .array(calendarDate)
      .default([])
      .meta({ description: 'Local dates (feed time zone) on which no drop is due, e.g. holidays: their slots are NOT_EXPECTED' }),
  })
  .meta({ description: 'Calendar exceptions for the SLA watch' });

export const csvSchema = z
  .strictObject({
    delimiter: z.string().length(1, { error: 'must be exactly one character, e.g. "," or "\\t" or ";"' }).default(','),
    quote: z.string().length(1, { error: 'must be exactly one character, usually "\\""' }).default('"'),
    quoting: z.enum(['needed', 'all']).default('needed').meta({ description: 'Quote fields only when needed, or every field' }),
    header: z.boolean().default(true),
    nullText: z.string().default('').meta({ description: 'Text written for NULL. An empty string is then written quoted ("") so the two stay distinct' }),
    lineEnding: z.enum(['lf', 'crlf']).default('lf'),
    encoding: z.enum(['utf-8', 'utf-8-bom']).default('utf-8'),
    gzip: z.boolean().default(true),
    // Optional rather than defaulted, so dialects built in code need not name it: absent is 'keep'.
    formulas: z
      .enum(['keep', 'neutralize'])
      .optional()
      .meta({
        description:
          "Default 'keep'. Values that a spreadsheet would run as a formula (starting with = + - @ TAB or CR, numbers aside): 'keep' writes them exactly (the default: " +
          "programs reading the file get the data as it is); 'neutralize' writes them quoted with a ' in front (OWASP's CSV injection advice), " +
          'for files people open in Excel, LibreOffice or Google Sheets. The manifest records the choice (csv.formulas)',
      }),
    maxRowsPerFile: z.number().int().positive().optional(),
    maxBytesPerFile: z
      .number()
      .int()
      .min(1024, { error: 'must be at least 1024 bytes' })
      .optional()
      .meta({ description: 'Split before a file would pass this many uncompressed bytes' }),
  })
  .refine((c) => c.delimiter !== c.quote, {
    error: rule('delimiter and quote must differ', 'set delimiter (e.g. ",") and quote (e.g. \'"\') to two different characters'),
  })
  .refine((c) => !/[\r\n]/.test(c.delimiter) && !/[\r\n]/.test(c.quote), {
    error: rule('delimiter and quote cannot be CR or LF', 'use a visible character such as "," ";" or "\\t" for the delimiter and \'"\' for the quote'),
  })
  .refine((c) => !c.nullText.includes(c.delimiter) && !c.nullText.includes(c.quote) && !/[\r\n]/.test(c.nullText), {
    error: rule(
      'nullText is written unquoted, so it cannot hold the delimiter, the quote or a line break; use e.g. "" or "\\N"',
      'set nullText to text without the delimiter, the quote or a line break, such as "" or "\\N"',
    ),
    path: ['nullText'],
  });

export const parquetSchema = z.strictObject({
  compression: z.enum(['zstd', 'snappy', 'gzip', 'uncompressed']).default('zstd'),
  maxRowsPerFile: z.number().int().positive().optional(),
});

export const formatsSchema = z
  .strictObject({
    csv: csvSchema.optional(),
    parquet: parquetSchema.optional(),
  })
  .refine((f) => f.csv !== undefined || f.parquet !== undefined, {
    error: rule('give at least one format: csv and/or parquet', 'add `csv: {}` and/or `parquet: {}` under formats'),
  });

export const webhookTargetSchema = z
  .strictObject({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: rule('must be an http(s) URL', "give the endpoint's full URL, e.g. https://partner.example/hooks/dropkit") }),
    secretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, {
        error: rule(
          'must name an environment variable, e.g. DROPKIT_WEBHOOK_SECRET',
          'give the NAME of an environment variable (upper case, digits, _) that holds the secret, never the secret itself',
        ),
      })
      .optional()
      .meta({ description: 'Environment variable holding the HMAC secret for local runs; never put the secret in the file' }),
    secret: z
      .strictObject({
        name: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, { error: 'must be a Secrets Manager secret name, e.g. dropkit/shop/webhooks/acme' }),
      })
      .optional()
      .meta({ description: 'Secrets Manager secret holding the HMAC secret (a plain string), read by the deployed pipeline' }),
    maxAttempts: z.number().int().min(1).max(10).default(5),
  })
  .refine((t) => t.secretEnv !== undefined || t.secret !== undefined, {
    error: 'give the HMAC secret: secret: { name: <Secrets Manager name> } for AWS, and/or secretEnv: <VARIABLE> for local runs',
    path: ['secret'],
  });
export const snsTargetSchema = z.strictObject({ type: z.literal('sns'), topicArn: z.string().optional() });
export const eventBridgeTargetSchema = z.strictObject({ type: z.literal('eventbridge'), eventBusName: z.string().optional() });
export const outboxTargetSchema = z.strictObject({ type: z.literal('outbox') });
export const consoleTargetSchema = z.strictObject({ type: z.literal('console') });
export const notifyTargetSchema = z.discriminatedUnion('type', [
  webhookTargetSchema,
  snsTargetSchema,
  eventBridgeTargetSchema,
  outboxTargetSchema,
  consoleTargetSchema,
]);

const secretEnv = (example: string) =>
  z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, { error: `must name an environment variable, e.g. ${example}` })
    .meta({ description: 'Environment variable holding the secret; never put the secret in the file' });

const destinationName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, { error: 'destination names are lower-case letters, digits, _ and -, starting with a letter' });

/** What a destination sends: the whole drop every time, or (with `primaryKey`) only what changed since the drop it last received. */
const syncFields = {
  name: destinationName,
  sync: z.enum(['full', 'upsert', 'mirror', 'insert-only']).default('full').meta({
    description:
      'full: every drop whole; upsert: inserts and updates since the last drop this destination received; mirror: upsert plus deletes; insert-only: new keys only. Diff syncs need primaryKey and Parquet',
  }),
  primaryKey: z.array(z.string().min(1)).min(1).optional().meta({ description: 'Columns that identify a row; required by diff syncs' }),
};

const remotePath = z
  .string()
  .regex(/^[^\0]*$/, { error: 'cannot hold NUL' })
  .refine((p) => !p.split('/').includes('..'), { error: 'cannot contain ".." segments' });

export const localDestinationSchema = z.strictObject({
  type: z.literal('local'),
  ...syncFields,
  path: z.string().min(1).meta({ description: 'Folder the drop is copied into (relative to the project file); for development' }),
});

export const s3DestinationSchema = z.strictObject({
  type: z.literal('s3'),
  ...syncFields,
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name, e.g. partner-inbound' }),
  prefix: remotePath
    .default('')
    .meta({ description: `Key prefix in their bucket; the drop goes under <prefix>/${relativeDropPrefix('<feed>', null, '<slot>', '<runId>')}` }),
  region: z.string().optional(),
  roleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { error: 'must be an IAM role ARN, e.g. arn:aws:iam::123456789012:role/dropkit-inbound' })
    .optional()
    .meta({ description: "A role in the partner's account to assume; omit when their bucket policy grants our role" }),
  externalId: z.string().min(2).max(1224).optional().meta({ description: 'The external id their role trust policy requires' }),
  kmsKeyId: z.string().min(1).optional().meta({ description: 'Their KMS key (ARN or alias ARN): objects are encrypted with it (SSE-KMS)' }),
});

export const sftpDestinationSchema = z.strictObject({
  type: z.literal('sftp'),
  ...syncFields,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  privateKeyEnv: secretEnv('PARTNER_SFTP_KEY').meta({ description: 'Environment variable holding the private key (OpenSSH PEM text)' }),
  hostKeySha256: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, {
      error: 'must be a host key fingerprint as ssh-keygen -lf prints it, e.g. SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
    })
    .meta({ description: 'Pinned host key fingerprint: any other host key is refused' }),
  path: remotePath.default('.').meta({ description: 'Remote folder the drop goes into' }),
  connectorId: z
    .string()
    .regex(/^c-[0-9a-f]{17}$/, { error: 'must be an AWS Transfer Family connector id, e.g. c-1234567890abcdef0' })
    .optional()
    .meta({ description: 'AWS Transfer Family SFTP connector the deployed pipeline sends through (it holds the key and the pinned host key)' }),
  connectTimeout: positiveDuration('destinations[].connectTimeout').default('PT30S'),
  idleTimeout: positiveDuration('destinations[].idleTimeout').default('PT60S'),
  deadline: positiveDuration('destinations[].deadline').default('PT30M').meta({ description: 'The whole delivery to this server' }),
});

export const apiDestinationSchema = z.strictObject({
  type: z.literal('api'),
  ...syncFields,
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).meta({ description: 'Endpoint that takes batches: POST {"op","rows":[...]}' }),
  tokenEnv: secretEnv('CRM_API_TOKEN').meta({ description: 'Environment variable holding the bearer token' }),
  secret: z
    .strictObject({
      name: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, { error: 'must be a Secrets Manager secret name, e.g. dropkit/shop/crm-token' }),
    })
    .optional()
    .meta({ description: 'Secrets Manager secret holding the bearer token (a plain string), read by the deployed pipeline' }),
  mapping: z
    .record(z.string().min(1), z.string().min(1))
    .refine((m) => Object.keys(m).length > 0, { error: 'map at least one column' })
    .meta({ description: 'Column → JSON field sent for it; unmapped columns are not sent' }),
  batchSize: z.number().int().min(1).max(10000).default(500),
  requestsPerSecond: z.number().positive().max(1000).default(10),
  maxAttempts: z.number().int().min(1).max(10).default(5),
  timeout: positiveDuration('destinations[].timeout').default('PT30S').meta({ description: 'Per request' }),
});

export const destinationSchema = z
  .discriminatedUnion('type', [localDestinationSchema, s3DestinationSchema, sftpDestinationSchema, apiDestinationSchema])
  .superRefine((d, ctx) => {
    if (d.sync !== 'full' && !d.primaryKey)
      ctx.addIssue({
        code: 'custom',
        path: ['primaryKey'],
        message: `sync: ${d.sync} sends only what changed, which needs the columns that identify a row`,
        params: { fix: 'add primaryKey: [id] (your key columns), or set sync: full' },
      });
    if (d.type === 'api' && d.primaryKey) {
      const unmapped = d.primaryKey.filter((k) => !(k in d.mapping));
      if (unmapped.length)
        ctx.addIssue({
          code: 'custom',
          path: ['mapping'],
          message: `the API cannot identify rows: primary key column(s) ${unmapped.join(', ')} are not mapped`,
          params: { fix: `map them, e.g. ${unmapped[0]}: ${unmapped[0]}` },
        });
    }
  })
  .meta({ description: 'A place the drop is pushed to after it is published: partner S3, SFTP, an HTTP API (reverse ETL), or a local folder' });

const destinations = z
  .array(destinationSchema)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((d, i) => {
      if (seen.has(d.name))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `destination name "${d.name}" is used twice`,
          params: { fix: 'give each destination its own name' },
        });
      seen.add(d.name);
    });
  })
  .meta({ description: 'Where each drop is pushed after it is published' });

export const partnerSchema = z.strictObject({
  id: z.string().regex(PARTNER_ID, {
    error: rule('partner ids are lower-case letters, digits and dashes, e.g. acme-corp', 'rename the partner id, e.g. "Acme Corp" → acme-corp'),
  }),
  name: z.string().optional(),
  parameters: parameters.optional().meta({ description: 'Query parameters for this partner, over the feed defaults' }),
  notify: z.array(notifyTargetSchema).optional(),
  destinations: destinations.optional().meta({ description: "This partner's destinations, besides the feed's" }),
});

/** What puts a drop on hold for sign-off (lib/core/approval): its feed's first drop, a schema change, a drift check that did not pass. */
export const APPROVAL_TRIGGERS = ['first', 'schema_change', 'drift'] as const;

/** Sign-off: a drop that meets one of `when` is rendered and held before its manifest until an approver decides. */
export const approvalSchema = z
  .strictObject({
    when: z.array(z.enum(APPROVAL_TRIGGERS)).min(1, { error: 'approval.when needs at least one of first, schema_change, drift' }).meta({
      description:
        'first: the first drop of the feed (and partner); schema_change: columns or types differ from the last drop; drift: a drift check warned or failed',
    }),
    approvers: z
      .array(
        z.string().regex(/^[A-Za-z0-9._%+@-]{1,128}$/, {
          error: rule(
            'approvers are ids or e-mail addresses (letters, digits and . _ % + @ -)',
            'write each approver as an id or an e-mail, e.g. data-owner@example.com',
          ),
        }),
      )
      .min(1, { error: 'approval.approvers needs at least one approver' })
      .meta({ description: 'Who may approve or reject a held drop (`dropkit approve --by`, the broker API on AWS); told when a drop is held' }),
    timeout: positiveDuration('approval.timeout')
      .refine((d) => (parseDurationSeconds(d) ?? 0) <= 7 * 86400, {
        error: 'an approval waits at most 7 days (P7D)',
        params: { fix: 'give approval.timeout of at most P7D, e.g. PT8H' },
      })
      .default('PT8H')
      .meta({ description: 'How long a held drop waits for a decision; then it is rolled back and the timeout is an SLA event' }),
  })
  .meta({ description: 'Hold drops for sign-off by the people who own the data' });

/** A metric selection over the project's semantic layer (dbt MetricFlow YAML), instead of SQL. */
export const selectSchema = z
  .strictObject({
    metrics: z.array(z.string().min(1)).min(1).meta({ description: 'Metric names of the semantic layer, one column each' }),
    group_by: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: 'metric_time__<grain> (day, week, month, quarter, year) and entity__dimension names, e.g. customer__country' }),
    where: z
      .union([z.string().min(1), z.array(z.string().min(1))])
      .optional()
      .meta({
        description: "Filter before aggregation, MetricFlow style: \"{{ Dimension('order__status') }} = 'paid'\"; $partner_id and feed parameters are bound",
      }),
  })
  .meta({ description: "Metrics and dimensions of the semantic layer instead of a SQL file; the slot's data interval applies to metric_time" });

export const feedSchema = z
  .strictObject({
    name: z.string().regex(FEED_NAME, {
      error: rule(
        'feed names are lower-case letters, digits, _ and -, starting with a letter',
        'rename the feed, e.g. "Daily Orders" → daily-orders (at most 64 characters)',
      ),
    }),
    description: z.string().min(1),
    owner: z.string().min(1).meta({ description: 'Team or person answerable for the feed (an e-mail works well)' }),
    schedule: scheduleSchema,
    start: calendarDate.optional().meta({
      description:
        "Local date (feed time zone) of the feed's first slot: nothing is expected before it, and a backfilled slot before it is not an SLA breach. Default: the first slot the store records a run of",
    }),
    sla: slaSchema,
    query: z
      .strictObject({
        sql: z.string().optional().meta({ description: 'SQL file for every engine, relative to the feed file' }),
        duckdb: z.string().optional().meta({ description: 'SQL file used on DuckDB instead of `sql`' }),
        athena: z.string().optional().meta({ description: 'SQL file used on Athena instead of `sql`' }),
      })
      .optional()
      .meta({ description: 'Default: <feed file name>.sql beside the feed file' }),
    select: selectSchema.optional(),
    parameters: parameters.optional(),
    orderBy: z.array(z.string().min(1)).min(1).optional().meta({
      description:
        "Columns that order the rows of every file, on every engine. Athena does not keep a query's ORDER BY through its staging table: name the order here for CSV bytes that match between DuckDB and Athena",
    }),
    formats: formatsSchema,
    checks: z.array(checkSchema).default([]),
    columns: z
      .record(
        z.string().min(1),
        z.strictObject({
          description: z.string().optional(),
          pii: z
            .boolean()
            .default(false)
            .meta({ description: "Personal data: left out of the profile's value lists and redacted in the report's sample preview" }),
        }),
      )
      .optional()
      .meta({ description: 'What is known about columns of the result, by name, e.g. `email: { pii: true }`' }),
    delivery: z
      .enum(['shared', 'per-partner'])
      .default('shared')
      .meta({ description: 'shared: one drop for all partners; per-partner: one drop per partner, partner_id bound in the query' }),
    partners: z.array(partnerSchema).default([]),
    notify: z.array(notifyTargetSchema).default([]),
    destinations: destinations.default([]),
    links: z
      .strictObject({
        expiresIn: positiveDuration('links.expiresIn')
          .refine((d) => (parseDurationSeconds(d) ?? 0) <= 7 * 86400, {
            error: 'presigned links live at most 7 days (P7D)',
            params: { fix: 'give links.expiresIn of at most P7D, e.g. PT1H' },
          })
          .default('PT1H'),
      })
      .default({ expiresIn: 'PT1H' }),
    calendar: calendarSchema.optional().meta({ description: 'Dates on which no drop of this feed is due, added to the project calendar' }),
    approval: approvalSchema.optional(),
    retention: z
      .strictObject({ days: z.number().int().positive().meta({ description: 'Drops older than this are deleted; the latest is always kept' }) })
      .optional(),
  })
  .refine((f) => f.select === undefined || f.query === undefined, {
    error: 'give either select (metrics of the semantic layer) or query (SQL files), not both',
    path: ['select'],
    params: { fix: 'remove query: a feed with select gets its SQL compiled from the semantic layer' },
  })
  .superRefine((f, ctx) => {
    // Diff syncs and API rows read the drop's Parquet through the engine.
    const all = [
      ...f.destinations.map((d, i) => ({ d, path: ['destinations', i] })),
      ...f.partners.flatMap((p, j) => (p.destinations ?? []).map((d, i) => ({ d, path: ['partners', j, 'destinations', i] }))),
    ];
    // Counting a drop as delivered at its destinations needs destinations to count it at.
    if (f.sla.deliveredWhen === 'destinations' && all.filter(({ path }) => f.delivery === 'per-partner' || path[0] === 'destinations').length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['sla', 'deliveredWhen'],
        message: `sla.deliveredWhen: destinations, and the feed's drops have no destinations${f.delivery === 'shared' ? " (a shared drop goes to the feed's destinations only)" : ''}`,
        params: { fix: 'add destinations: to the feed, or remove deliveredWhen (a drop then counts as delivered when published)' },
      });
    for (const { d, path } of all)
      if ((d.sync !== 'full' || d.type === 'api') && !f.formats.parquet)
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'sync'],
          message: `destination "${d.name}" reads the drop's rows from Parquet, and the feed writes none`,
          params: { fix: 'add formats.parquet: {}' },
        });
  })
  .meta({ title: 'dropkit feed', description: 'One feed: a query, a schedule, an SLA, formats, checks and consumers' });

export const sourceSchema = z.union([
  z.string().meta({ description: 'Path or glob (relative to the project file) of .csv, .csv.gz or .parquet files' }),
  z.strictObject({
    path: z.string(),
    format: z.enum(['csv', 'parquet']).optional(),
    outsideProject: z
      .boolean()
      .optional()
      .meta({ description: 'Allow a glob rooted outside the project folder: feed SQL may then read every file under that root' }),
  }),
]);

/** A Glue database or table name as Athena resolves it (Glue stores names in lower case). */
const GLUE_NAME = /^[a-z0-9_]{1,255}$/;

/** What the deployed pipeline reads on AWS: the roles are granted exactly this. */
export const awsSourcesSchema = z
  .strictObject({
    database: z
      .string()
      .regex(GLUE_NAME, { error: 'a Glue database name: lower-case letters, digits and _' })
      .optional()
      .meta({ description: 'Glue database that unqualified table names in the feed SQL resolve in (Athena: `default` when unset)' }),
    glueTables: z
      .array(
        z.strictObject({
          database: z.string().regex(GLUE_NAME, { error: 'a Glue database name: lower-case letters, digits and _' }),
          tables: z
            .array(z.string().regex(GLUE_NAME, { error: 'a Glue table name: lower-case letters, digits and _' }))
            .min(1)
            .optional()
            .meta({ description: 'Tables the feeds read; every table of the database when left out' }),
        }),
      )
      .default([])
      .meta({ description: 'Glue databases and tables the feed SQL reads' }),
    s3Locations: z
      .array(z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, { error: 'an S3 location like s3://bucket/prefix/' }))
      .default([])
      .meta({ description: "Where those tables' data is, as s3://bucket/prefix/" }),
    kmsKeyArns: z
      .array(
        z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, { error: 'a KMS key ARN like arn:aws:kms:eu-west-1:123456789012:key/…' }),
      )
      .default([])
      .meta({ description: 'KMS keys the source data is encrypted with (decrypt only)' }),
  })
  .meta({ description: 'What the feeds read on AWS: `cdk deploy` grants the pipeline exactly this' });

export const projectSchema = z
  .strictObject({
    name: z.string().regex(FEED_NAME, {
      error: rule('project names are lower-case letters, digits, _ and -', 'rename the project, e.g. "My Project" → my-project'),
    }),
    feeds: z.string().default('feeds').meta({ description: 'Folder of feed files, relative to the project file' }),
    sources: z
      .record(
        z.string().regex(/^[a-z_][a-z0-9_]*$/, {
          error: rule(
            'source names are SQL identifiers in lower_snake_case',
            'rename the source in lower_snake_case, e.g. Events → events, and use that name in the SQL',
          ),
        }),
        sourceSchema,
      )
      .default({}),
    output: z.string().default('out').meta({ description: 'Local store folder for drops, relative to the project file' }),
    links: z
      .strictObject({
        baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://files.example.com/drops/' }).meta({
          description: 'Where the output folder is served: links in notices become this URL plus the key instead of file:// URLs',
        }),
      })
      .optional(),
    calendar: calendarSchema.optional().meta({ description: 'Dates on which no drop of any feed is due (e.g. public holidays)' }),
    semantic: z
      .strictObject({
        path: z.string().default('semantic').meta({ description: 'Folder of dbt semantic layer YAML (semantic_models, metrics), or a dbt project folder' }),
      })
      .optional()
      .meta({ description: 'Where the semantic layer is; default: the semantic/ folder, if there is one' }),
    prefix: z
      .string()
      .regex(/^([a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*)?$/, {
        error: rule(
          'a key prefix like "drops" or "exchange/v1"',
          'use lower-case folder names joined by "/", without a leading or trailing "/", e.g. exchange/v1 (or leave prefix out)',
        ),
      })
      .default(''),
    aws: awsSourcesSchema.optional(),
  })
  .meta({ title: 'dropkit project', description: 'Local sources and defaults for a folder of feeds' });

export type FeedInput = z.input<typeof feedSchema>;
export type FeedFile = z.output<typeof feedSchema>;
export type CsvDialect = z.output<typeof csvSchema>;
export type ParquetOptions = z.output<typeof parquetSchema>;
export type NotifyTarget = z.output<typeof notifyTargetSchema>;
export type WebhookTarget = z.output<typeof webhookTargetSchema>;
export type Partner = z.output<typeof partnerSchema>;
export type CalendarSpec = z.output<typeof calendarSchema>;
export type ProjectFile = z.output<typeof projectSchema>;
export type SelectSpec = z.output<typeof selectSchema>;
export type ApprovalSpec = z.output<typeof approvalSchema>;
export type AwsSources = z.output<typeof awsSourcesSchema>;
export type DestinationSpec = z.output<typeof destinationSchema>;
export type ApiDestinationSpec = z.output<typeof apiDestinationSchema>;
export type SftpDestinationSpec = z.output<typeof sftpDestinationSchema>;
export type S3DestinationSpec = z.output<typeof s3DestinationSchema>;
export type LocalDestinationSpec = z.output<typeof localDestinationSchema>;
export type ParameterValue = z.output<typeof parameterValue>;
