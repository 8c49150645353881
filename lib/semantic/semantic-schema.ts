import * as z from 'zod';

/**
 * dbt's semantic layer YAML (MetricFlow, the `semantic_models:` / `metrics:` spec of
 * dbt-semantic-interfaces), as zod schemas. The fields dbt documents are all accepted here so a
 * file from a dbt project parses; the ones dropkit does not compile are refused afterwards, by name,
 * in `semantic-layer.ts` (SUPPORT says which).
 */

const NAME = /^[a-z][a-z0-9_]*$/;
const name = z.string().regex(NAME, { error: 'names are lower_snake_case (letters, digits and _), starting with a letter' });

export const GRANULARITIES = ['day', 'week', 'month', 'quarter', 'year'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
/** Sub-daily grains exist in MetricFlow; dropkit's slots are days or longer, so they are refused. */
const ALL_GRANULARITIES = ['nanosecond', 'microsecond', 'millisecond', 'second', 'minute', 'hour', ...GRANULARITIES] as const;

const meta = z.record(z.string(), z.unknown());
const config = z.looseObject({ meta: meta.optional(), enabled: z.boolean().optional(), group: z.string().optional() });

export const entitySchema = z.strictObject({
  name,
  type: z.enum(['primary', 'unique', 'foreign', 'natural']),
  expr: z.union([z.string(), z.boolean()]).optional(),
  description: z.string().optional(),
  label: z.string().optional(),
  role: z.string().optional(),
  config: config.optional(),
});

export const dimensionSchema = z.strictObject({
  name,
  type: z.enum(['categorical', 'time']),
  expr: z.union([z.string(), z.boolean()]).optional(),
  description: z.string().optional(),
  label: z.string().optional(),
  is_partition: z.boolean().optional(),
  type_params: z
    .strictObject({
      time_granularity: z.enum(ALL_GRANULARITIES).optional(),
      validity_params: z.strictObject({ is_start: z.boolean().optional(), is_end: z.boolean().optional() }).optional(),
    })
    .optional(),
  config: config.optional(),
});

export const measureSchema = z.strictObject({
  name,
  agg: z.enum(['sum', 'min', 'max', 'count', 'count_distinct', 'sum_boolean', 'average', 'percentile', 'median']),
  expr: z.union([z.string(), z.number(), z.boolean()]).optional(),
  description: z.string().optional(),
  label: z.string().optional(),
  create_metric: z.boolean().optional(),
  agg_time_dimension: name.optional(),
  agg_params: z.record(z.string(), z.unknown()).optional(),
  non_additive_dimension: z.record(z.string(), z.unknown()).optional(),
  config: config.optional(),
});

export const semanticModelSchema = z.strictObject({
  name,
  description: z.string().optional(),
  label: z.string().optional(),
  model: z.string().min(1).meta({ description: "The table: ref('orders') or a table name" }),
  defaults: z.strictObject({ agg_time_dimension: name.optional() }).optional(),
  primary_entity: name.optional(),
  entities: z.array(entitySchema).default([]),
  dimensions: z.array(dimensionSchema).default([]),
  measures: z.array(measureSchema).default([]),
  config: config.optional(),
  meta: meta.optional(),
});

/** A filter is one Jinja-templated SQL condition or a list of them (all must hold). */
const filter = z.union([z.string().min(1), z.array(z.string().min(1))]);

export const metricInputSchema = z.union([
  name,
  z.strictObject({
    name,
    filter: filter.optional(),
    alias: name.optional(),
    offset_window: z.string().optional(),
    offset_to_grain: z.string().optional(),
  }),
]);

export const measureInputSchema = z.union([
  name,
  z.strictObject({
    name,
    filter: filter.optional(),
    alias: name.optional(),
    join_to_timespine: z.boolean().optional(),
    fill_nulls_with: z.number().optional(),
  }),
]);

export const metricSchema = z.strictObject({
  name,
  type: z.enum(['simple', 'ratio', 'derived', 'cumulative', 'conversion']),
  description: z.string().optional(),
  label: z.string().min(1).meta({ description: 'Display name; dbt requires it' }),
  filter: filter.optional(),
  time_granularity: z.string().optional(),
  type_params: z
    .strictObject({
      measure: measureInputSchema.optional(),
      numerator: metricInputSchema.optional(),
      denominator: metricInputSchema.optional(),
      expr: z.union([z.string(), z.number()]).optional(),
      metrics: z.array(metricInputSchema).optional(),
      window: z.string().optional(),
      grain_to_date: z.string().optional(),
      cumulative_type_params: z
        .strictObject({ window: z.string().optional(), grain_to_date: z.string().optional(), period_agg: z.enum(['first', 'last', 'average']).optional() })
        .optional(),
      conversion_type_params: z.record(z.string(), z.unknown()).optional(),
    })
    .default({}),
  config: config.optional(),
  meta: meta.optional(),
});

/**
 * One YAML file of a dbt project. Keys dbt reads for other purposes (models, sources, seeds,
 * saved_queries…) may sit beside the semantic ones and are left alone.
 */
export const semanticFileSchema = z.looseObject({
  version: z.union([z.number(), z.string()]).optional(),
  semantic_models: z.array(semanticModelSchema).optional(),
  metrics: z.array(metricSchema).optional(),
});

export type EntitySpec = z.output<typeof entitySchema>;
export type DimensionSpec = z.output<typeof dimensionSchema>;
export type MeasureSpec = z.output<typeof measureSchema>;
export type SemanticModelSpec = z.output<typeof semanticModelSchema>;
export type MetricSpec = z.output<typeof metricSchema>;
export type MetricInput = z.output<typeof metricInputSchema>;
export type MeasureInput = z.output<typeof measureInputSchema>;

/** A feed's `semantics` (FeedDefinition) as bundled for the Lambdas, checked again at cold start. */
export const feedSemanticsSchema = z.strictObject({
  metrics: z.array(z.string()),
  columns: z.array(
    z.strictObject({
      column: z.string(),
      kind: z.enum(['metric', 'dimension', 'entity']),
      name: z.string(),
      description: z.string().optional(),
      definition: z.string(),
    }),
  ),
});
