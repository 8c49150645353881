import * as z from 'zod';
import { SLOT_ID } from './layout';

/**
 * The manifest (version 1) and the `latest.json` pointer as zod schemas: the one definition of what
 * a manifest may hold. `schemas/manifest.v1.schema.json` is generated from it (`npm run schemas`),
 * publishing checks against it, and every reader of the store parses with it (store-json.ts).
 */
/** zod's ISO datetime takes no offset unless asked: UTC only, as every manifest time is. */
const utc = z.iso.datetime().meta({ id: 'utc' });
const sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .meta({ id: 'sha256' });
const count = z.int().min(0).meta({ id: 'count' });
const profileValue = z
  .union([z.number(), z.string(), z.null()])
  .meta({ id: 'profileValue', description: 'A number, or an ISO-8601 UTC instant for a date/time column' });

const columnProfile = z.strictObject({
  name: z.string(),
  kind: z.enum(['number', 'time', 'string', 'boolean', 'other']),
  nullFraction: z.number().min(0).max(1).meta({ description: 'Share of NULLs: exact' }),
  distinct: z.number().min(0).meta({
    description:
      'Count of distinct non-NULL values: exact when `top` lists them all; else an estimate, from the profile sample on DuckDB (Chao1 without replacement: exact for a key and for few values, within about 15% for values spread through the drop, low for values grouped together in the file) or HyperLogLog over every value on Athena (about 2%)',
  }),
  min: profileValue.optional().meta({ description: 'Smallest value (numbers and times): exact' }),
  max: profileValue.optional().meta({ description: 'Largest value (numbers and times): exact' }),
  mean: profileValue
    .optional()
    .meta({ description: 'Mean (numbers and times), 12 significant digits: of the profile sample on DuckDB, of every value on Athena' }),
  quantiles: z
    .array(z.union([z.number(), z.string()]))
    .nullable()
    .optional()
    .meta({
      description:
        "Values at the profile's quantileLevels: on DuckDB exact over the profile sample (within about 1 point of rank, about 1.5 for a column the file is ordered by), on Athena approx_percentile over every value",
    }),
  length: z
    .strictObject({ min: count, max: count })
    .nullable()
    .optional()
    .meta({ description: 'Length range of strings in characters: of the profile sample on DuckDB, of every value on Athena' }),
  top: z
    .array(z.strictObject({ value: z.string(), count }))
    .optional()
    .meta({ description: 'Every distinct non-NULL value with its count, most frequent first (low-cardinality, non-PII columns only)' }),
});

/** One check's result, as the manifest and the run record hold it (the run record adds failing rows' `sample`). */
export const checkResultSchema = z.strictObject({
  name: z.string(),
  type: z.string(),
  severity: z.enum(['error', 'warn']),
  outcome: z.enum(['pass', 'warn', 'fail', 'error']),
  observed: z.unknown(),
  threshold: z.unknown(),
  message: z.string(),
});

/** A manifest's sign-off; a run record of a delivered drop keeps the same. */
export const manifestApprovalSchema = z.strictObject({
  status: z.enum(['approved', 'not-required']),
  reasons: z.array(z.string()).meta({ description: 'The triggers that held the drop (first, schema_change, drift), or why none applied' }),
  heldAt: utc.optional(),
  approvedBy: z.string().optional().meta({ description: "The approver (one of the feed's approval.approvers)" }),
  approvedAt: utc.optional(),
  reason: z.string().optional().meta({ description: "The approver's reason" }),
});

const csvDialect = z.strictObject({
  delimiter: z.string().length(1),
  quote: z.string().length(1),
  header: z.boolean(),
  nullText: z.string(),
  lineEnding: z.enum(['lf', 'crlf']),
  encoding: z.enum(['utf-8', 'utf-8-bom']),
  formulas: z.enum(['keep', 'neutralize']).optional().meta({
    description:
      "keep: every value is written exactly. neutralize: a value starting with = + - @ TAB or CR (or fullwidth ＝ ＋ － ＠) that is not a plain number is written quoted with a ' in front, so spreadsheets show it as text instead of running it (OWASP CSV injection advice); such a value then reads back with that ' in front. Absent in manifests written before the option existed: keep",
  }),
});

export const manifestSchema = z
  .strictObject({
    manifestVersion: z.literal(1),
    feed: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/),
    partner: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .nullable(),
    runId: z.string().min(1),
    revision: z.int().min(1),
    supersedes: z.string().nullable().meta({ description: 'runId of the drop this revision replaces' }),
    status: z.literal('DELIVERED'),
    slot: z.strictObject({
      id: z.string().regex(SLOT_ID),
      scheduledFor: utc,
      dataInterval: z.strictObject({ start: utc, end: utc }),
      timezone: z.string().min(1),
      cron: z.string(),
    }),
    sla: z.strictObject({
      expectedBy: utc,
      warnAt: utc.nullable(),
      deliveredAt: utc,
      latenessSeconds: count,
      status: z.enum(['MET', 'LATE']),
    }),
    timings: z.strictObject({ startedAt: utc, stagedAt: utc, validatedAt: utc, renderedAt: utc, publishedAt: utc }),
    query: z.strictObject({
      engine: z.enum(['duckdb', 'athena']),
      sqlSha256: sha256,
      parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
      executionId: z.string().nullable(),
      bytesScanned: z.int().min(0).nullable(),
      engineMillis: z.int().min(0).nullable().optional().meta({ description: 'Time the engine spent on the staging query, where it reports it' }),
    }),
    schema: z.strictObject({
      columns: z.array(
        z.strictObject({
          name: z.string(),
          type: z.string().meta({
            description:
              "The column's SQL type as the engine staged and checked it, e.g. BIGINT, DECIMAL(18,2), TIMESTAMP WITH TIME ZONE. CSV files hold its canonical text: decimals at full scale, timestamps ISO-8601 UTC (years outside 0000-9999 as -0043 or +10000), dates ISO-8601, INTERVAL as an ISO-8601 duration with signed parts (P1Y2M-3DT4H5M6.5S, PT0S), TIME WITH TIME ZONE with its offset (12:34:56+05:30), booleans true/false, BLOB as base64, lists/structs/maps as JSON with those forms inside. A Parquet file holds this type, unless parquetType says otherwise",
          }),
          nullable: z.boolean(),
          parquetType: z.string().min(1).optional().meta({
            description:
              "Present when the drop's Parquet files hold the column in another type than `type`, because Parquet cannot hold that type's values exactly: HUGEINT and UHUGEINT as DECIMAL(38,0) (a value beyond 38 digits fails the run instead of being rounded), INTERVAL, TIME WITH TIME ZONE, BIGNUM, BIT and ENUM as VARCHAR (UTF-8) holding the CSV text above; the same inside lists (INTERVAL[] as VARCHAR[]), structs and maps",
          }),
        }),
      ),
    }),
    rowCount: count,
    files: z
      .array(
        z.strictObject({
          path: z.string().regex(/^[^/].*$/),
          format: z.enum(['csv', 'parquet']),
          compression: z.enum(['gzip', 'zstd', 'snappy', 'none']),
          rows: count,
          bytes: count,
          sha256,
          versionId: z.string().min(1).optional().meta({ description: "The object's version in a versioned bucket: a partner can fetch exactly this version" }),
        }),
      )
      .min(1),
    csv: csvDialect.nullable(),
    validation: z.strictObject({
      status: z.enum(['pass', 'warn', 'fail']),
      checks: z.array(checkResultSchema),
    }),
    semantics: z
      .strictObject({
        columns: z.array(
          z.strictObject({
            column: z.string().meta({ description: 'The column of the delivered files' }),
            kind: z.enum(['metric', 'dimension', 'entity']),
            name: z.string().meta({ description: 'The metric, dimension (entity__dimension) or entity name in the semantic layer' }),
            description: z.string().optional(),
            definition: z.string().meta({ description: 'How the value is derived: aggregation, expression, model and filters' }),
          }),
        ),
      })
      .optional()
      .meta({
        description: 'Present when the feed is a metric selection over a semantic layer: what each column is and how it is defined. Optional in version 1.',
      }),
    delivery: z
      .strictObject({
        destinations: z.array(
          z.strictObject({
            name: z.string().meta({ description: "The destination's name in the feed file" }),
            kind: z.enum(['local', 's3', 'sftp', 'api']),
            target: z.string().meta({ description: 'Where it goes, without secrets, e.g. sftp drops@partner.example:22/in' }),
            mode: z.enum(['full', 'upsert', 'mirror', 'insert-only']).meta({
              description: 'full: the whole drop; upsert, mirror, insert-only: only what changed since the last drop the destination received whole',
            }),
            partner: z.string().nullable().meta({ description: "The partner whose destination it is; null for the feed's own" }),
          }),
        ),
        delivered: z
          .strictObject({
            destination: z.string(),
            mode: z.enum(['full', 'upsert', 'mirror', 'insert-only']),
            base: z.string().nullable().meta({ description: 'runId of the drop the changes were computed against; null for the whole drop or a first sync' }),
            files: z
              .array(z.strictObject({ path: z.string(), op: z.enum(['upsert', 'insert', 'update', 'delete']).optional(), rows: count, bytes: count }))
              .meta({
                description:
                  "The files there, relative to this manifest: the drop's files, or for a diff sync changes/inserts.parquet, updates.parquet, deletes.parquet and changes.json",
              }),
          })
          .optional()
          .meta({ description: 'Only in the copy at a destination: what this destination received of the drop' }),
      })
      .optional()
      .meta({
        description:
          'Where the drop is pushed after it is published (its destinations: partner S3, SFTP, an HTTP API, a folder), as the feed said at the commit point. The copy of the manifest a file destination receives also says what was delivered there. Optional: absent when the drop has no destinations, and in manifests written before destinations',
      }),
    approval: manifestApprovalSchema.optional().meta({
      description:
        "Sign-off (the feed's `approval`): approved, by whom, when and why; or not-required with the reason. Optional in version 1 (absent in manifests written before sign-off).",
    }),
    toolkitVersion: z.string(),
    profile: z
      .strictObject({
        rows: count,
        quantileLevels: z.array(z.number().gt(0).lt(1)),
        columns: z.array(columnProfile),
      })
      .optional()
      .meta({
        description:
          "What each column of the drop looks like. Rows, NULLs, min and max are exact; DuckDB reads them from the staged Parquet file's metadata and takes the rest from the profile sample: about 65,536 rows from at most 16 row groups evenly spaced through the file, picked by a hash of their position, so the same rows give the same profile (a drop of up to 65,536 rows is read whole); Athena computes everything in the checks' scan. Optional: manifests written before profiles have none",
      }),
  })
  .meta({
    title: 'dropkit manifest, version 1',
    description: 'The record of one delivered drop. Written last: a drop without a manifest is not delivered. All times are UTC ISO-8601.',
  });

/** `latest.json`: the pointer to the newest delivered manifest of a feed (and partner). */
export const latestPointerSchema = z.strictObject({
  manifestVersion: z.literal(1),
  feed: z.string(),
  partner: z.string().nullable(),
  runId: z.string().min(1),
  revision: z.int().min(1),
  slot: z.string(),
  scheduledFor: z.string(),
  /** Relative to latest.json. */
  manifest: z.string(),
  manifestSha256: sha256,
  publishedAt: z.string(),
});

/** The published JSON Schema of the manifest, generated from {@link manifestSchema}. */
export function manifestSchemaDocument(): Record<string, unknown> {
  return { $id: 'https://dropkit.dev/schemas/manifest.v1.schema.json', ...z.toJSONSchema(manifestSchema, { target: 'draft-2020-12' }) };
}
