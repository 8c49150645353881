import { z } from 'zod';
import { isDuration, MAX_DURATION_DAYS, MAX_DURATION_SECONDS, parseDurationSeconds } from '../duration';
import { checkSchema } from '../checks/registry';

/**
 * The feed file (one YAML file per feed) and the project file, as zod schemas. The JSON Schemas
 * under `schemas/` are generated from these (`npm run schemas`) so editors can complete feed files.
 */

export const FEED_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
export const PARTNER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PARAM_NAME = /^[a-z_][a-z0-9_]*$/;
/** Names the pipeline binds itself; a feed may not redefine them. */
export const BUILTIN_PARAMETERS = ['window_start', 'window_end', 'slot', 'partner_id'] as const;

const duration = (what: string) =>
  z.string().refine(isDuration, {
    error: `must be an ISO-8601 duration of weeks, days, hours, minutes or seconds, e.g. PT2H or P1D (${what})`,
  });

const positiveDuration = (what: string) => duration(what).refine((d) => (parseDurationSeconds(d) ?? 0) > 0, { error: `must be longer than zero (${what})` });

/** An SLA duration: at most a year and a day, so every deadline is a real date. */
const slaDuration = <T extends z.ZodType<string>>(schema: T) =>
  schema.refine((d) => (parseDurationSeconds(d) ?? 0) <= MAX_DURATION_SECONDS, {
    error: `must be at most ${MAX_DURATION_DAYS} days (P${MAX_DURATION_DAYS}D); an SLA point further from its slot is a typo`,
    params: { fix: `give a duration of at most P${MAX_DURATION_DAYS}D, e.g. PT2H or P1D` },
  });

const parameterValue = z.union([z.string(), z.number(), z.boolean()]);
const parameters = z
  .record(z.string().regex(PARAM_NAME, { error: 'parameter names are lower_snake_case' }), parameterValue)
  .refine((p) => !Object.keys(p).some((k) => (BUILTIN_PARAMETERS as readonly string[]).includes(k)), {
    error: `${BUILTIN_PARAMETERS.join(', ')} are bound by dropkit and cannot be set here`,
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
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a local time HH:MM, e.g. 09:30' })
      .optional()
      .meta({ description: 'Deadline as a local wall-clock time (feed time zone), the first at or after the slot' }),
    warnAfter: slaDuration(positiveDuration('sla.warnAfter')).optional().meta({ description: 'Warn point after the slot' }),
    grace: slaDuration(duration('sla.grace')).default('PT0S').meta({ description: 'Extra time before a missing drop counts as MISSED' }),
  })
  .refine((s) => (s.deliverWithin === undefined) !== (s.deadline === undefined), {
    error: 'give exactly one of deliverWithin (a duration after the slot) or deadline (a local HH:MM time)',
  });

/** A calendar date YYYY-MM-DD that exists (no 2024-02-30). */
const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date YYYY-MM-DD, e.g. 2024-12-25' })
  .refine(
    (d) => {
      // Date rolls 2023-02-29 over into March; the round trip catches it. Runs after a failed regex too.
      const t = Date.parse(`${d}T00:00:00Z`);
      return !/^\d{4}-\d{2}-\d{2}$/.test(d) || (!Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d);
    },
    { error: 'is not a date that exists (check day and month)' },
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
    maxRowsPerFile: z.number().int().positive().optional(),
    maxBytesPerFile: z
      .number()
      .int()
      .min(1024, { error: 'must be at least 1024 bytes' })
      .optional()
      .meta({ description: 'Split before a file would pass this many uncompressed bytes' }),
  })
  .refine((c) => c.delimiter !== c.quote, { error: 'delimiter and quote must differ' })
  .refine((c) => !/[\r\n]/.test(c.delimiter) && !/[\r\n]/.test(c.quote), { error: 'delimiter and quote cannot be CR or LF' })
  .refine((c) => !c.nullText.includes(c.delimiter) && !c.nullText.includes(c.quote) && !/[\r\n]/.test(c.nullText), {
    error: 'nullText is written unquoted, so it cannot hold the delimiter, the quote or a line break; use e.g. "" or "\\N"',
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
  .refine((f) => f.csv !== undefined || f.parquet !== undefined, { error: 'give at least one format: csv and/or parquet' });

export const webhookTargetSchema = z.strictObject({
  type: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  secretEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'must name an environment variable, e.g. DROPKIT_WEBHOOK_SECRET' })
    .meta({ description: 'Environment variable holding the HMAC secret; never put the secret in the file' }),
  maxAttempts: z.number().int().min(1).max(10).default(5),
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

export const partnerSchema = z.strictObject({
  id: z.string().regex(PARTNER_ID, { error: 'partner ids are lower-case letters, digits and dashes, e.g. acme-corp' }),
  name: z.string().optional(),
  parameters: parameters.optional().meta({ description: 'Query parameters for this partner, over the feed defaults' }),
  notify: z.array(notifyTargetSchema).optional(),
});

export const feedSchema = z
  .strictObject({
    name: z.string().regex(FEED_NAME, { error: 'feed names are lower-case letters, digits, _ and -, starting with a letter' }),
    description: z.string().min(1),
    owner: z.string().min(1).meta({ description: 'Team or person answerable for the feed (an e-mail works well)' }),
    schedule: scheduleSchema,
    sla: slaSchema,
    query: z
      .strictObject({
        sql: z.string().optional().meta({ description: 'SQL file for every engine, relative to the feed file' }),
        duckdb: z.string().optional().meta({ description: 'SQL file used on DuckDB instead of `sql`' }),
        athena: z.string().optional().meta({ description: 'SQL file used on Athena instead of `sql`' }),
      })
      .optional()
      .meta({ description: 'Default: <feed file name>.sql beside the feed file' }),
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
    links: z
      .strictObject({
        expiresIn: positiveDuration('links.expiresIn')
          .refine((d) => (parseDurationSeconds(d) ?? 0) <= 7 * 86400, { error: 'presigned links live at most 7 days (P7D)' })
          .default('PT1H'),
      })
      .default({ expiresIn: 'PT1H' }),
    calendar: calendarSchema.optional().meta({ description: 'Dates on which no drop of this feed is due, added to the project calendar' }),
    retention: z
      .strictObject({ days: z.number().int().positive().meta({ description: 'Drops older than this are deleted; the latest is always kept' }) })
      .optional(),
  })
  .meta({ title: 'dropkit feed', description: 'One feed: a query, a schedule, an SLA, formats, checks and consumers' });

export const sourceSchema = z.union([
  z.string().meta({ description: 'Path or glob (relative to the project file) of .csv, .csv.gz or .parquet files' }),
  z.strictObject({
    path: z.string(),
    format: z.enum(['csv', 'parquet']).optional(),
  }),
]);

export const projectSchema = z
  .strictObject({
    name: z.string().regex(FEED_NAME, { error: 'project names are lower-case letters, digits, _ and -' }),
    feeds: z.string().default('feeds').meta({ description: 'Folder of feed files, relative to the project file' }),
    sources: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/, { error: 'source names are SQL identifiers in lower_snake_case' }), sourceSchema).default({}),
    output: z.string().default('out').meta({ description: 'Local store folder for drops, relative to the project file' }),
    calendar: calendarSchema.optional().meta({ description: 'Dates on which no drop of any feed is due (e.g. public holidays)' }),
    prefix: z
      .string()
      .regex(/^([a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*)?$/, { error: 'a key prefix like "drops" or "exchange/v1"' })
      .default(''),
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
export type ParameterValue = z.output<typeof parameterValue>;
