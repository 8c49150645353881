import type { ConfigProblem } from '../core/errors';
import { GRANULARITIES, Granularity, MeasureInput, MetricInput, MetricSpec, SemanticModelSpec, semanticFileSchema, type MeasureSpec } from './semantic-schema';
import type * as z from 'zod';

/**
 * The semantic layer after validation: semantic models with their entities, dimensions and
 * measures, and metrics resolved to what they stand on. Built from the parsed YAML of one or more
 * files; every problem (including a dbt feature dropkit does not compile) names file, field, value
 * and fix.
 */

export interface Entity {
  readonly name: string;
  readonly type: 'primary' | 'unique' | 'foreign' | 'natural';
  readonly expr: string;
}
export interface Dimension {
  readonly name: string;
  readonly type: 'categorical' | 'time';
  readonly expr: string;
  /** The grain the column holds (time dimensions). */
  readonly grain?: Granularity;
  readonly description?: string;
}
export interface Measure {
  readonly name: string;
  readonly model: string;
  readonly agg: 'sum' | 'min' | 'max' | 'count' | 'count_distinct' | 'sum_boolean' | 'average';
  readonly expr: string;
  /** The time dimension (of its model) that `metric_time` stands for. */
  readonly aggTimeDimension: string;
  readonly description?: string;
}
export interface SemanticModel {
  readonly name: string;
  /** The table the model reads: `ref('orders')` gives `orders`. */
  readonly table: string;
  readonly file: string;
  readonly description?: string;
  readonly entities: readonly Entity[];
  readonly dimensions: readonly Dimension[];
  readonly measures: readonly Measure[];
}
/** A metric as an input of another (ratio, derived), with its own filter. */
export interface MetricRef {
  readonly name: string;
  readonly alias?: string;
  readonly filters: readonly string[];
}
export interface Window {
  readonly count: number;
  readonly unit: Granularity;
}
export interface Metric {
  readonly name: string;
  readonly type: 'simple' | 'ratio' | 'derived' | 'cumulative';
  readonly file: string;
  readonly description?: string;
  readonly label?: string;
  readonly filters: readonly string[];
  /** simple and cumulative */
  readonly measure?: { readonly name: string; readonly filters: readonly string[]; readonly fillNullsWith?: number };
  readonly numerator?: MetricRef;
  readonly denominator?: MetricRef;
  /** derived */
  readonly expr?: string;
  readonly inputs?: readonly MetricRef[];
  /** cumulative: a trailing window, a grain to date, or neither (all time) */
  readonly window?: Window;
  readonly grainToDate?: Granularity;
}
export interface SemanticLayer {
  readonly models: ReadonlyMap<string, SemanticModel>;
  readonly measures: ReadonlyMap<string, Measure>;
  readonly metrics: ReadonlyMap<string, Metric>;
}

/** What dropkit compiles of the MetricFlow spec; the rest is refused at `dropkit check`. */
export const SUPPORT = {
  entityTypes: ['primary', 'unique', 'foreign'],
  aggregations: ['sum', 'min', 'max', 'count', 'count_distinct', 'sum_boolean', 'average'],
  metricTypes: ['simple', 'ratio', 'derived', 'cumulative'],
  granularities: GRANULARITIES,
  refused: [
    'natural entities (SCD joins)',
    'percentile and median measures (engines differ)',
    'non_additive_dimension',
    'conversion metrics',
    'offset_window / offset_to_grain on derived inputs',
    'join_to_timespine',
    'cumulative period_agg',
    'sub-daily granularities',
    'validity_params',
  ],
} as const;

export interface SemanticFile {
  /** Path relative to the project folder, for messages. */
  readonly file: string;
  readonly raw: unknown;
}

/** Validates the files together (names are global across files, as in dbt) and resolves the layer. */
export function buildSemanticLayer(files: readonly SemanticFile[]): { layer: SemanticLayer; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const models = new Map<string, SemanticModel>();
  const measures = new Map<string, Measure>();
  const metricSpecs: { spec: MetricSpec; file: string; path: string }[] = [];
  const seen = new Map<string, string>();
  const claim = (kind: string, n: string, file: string, path: string) => {
    const key = `${kind}:${n}`;
    const other = seen.get(key);
    if (other) problems.push({ file, path, message: `${kind} name already used in ${other}`, value: n, fix: `give every ${kind} a unique name` });
    seen.set(key, `${file} (${path})`);
    return !other;
  };

  for (const { file, raw } of files) {
    const parsed = semanticFileSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...issues(file, raw, parsed.error.issues));
      continue;
    }
    (parsed.data.semantic_models ?? []).forEach((spec, i) => {
      const model = buildModel(spec, file, `semantic_models.${i}`, problems);
      if (!claim('semantic model', spec.name, file, `semantic_models.${i}.name`)) return;
      models.set(model.name, model);
      model.measures.forEach((m, j) => {
        if (claim('measure', m.name, file, `semantic_models.${i}.measures.${j}.name`)) measures.set(m.name, m);
      });
      spec.measures.forEach((m, j) => {
        if (m.create_metric)
          metricSpecs.push({
            spec: { name: m.name, label: m.label ?? m.name, type: 'simple', description: m.description, type_params: { measure: m.name } },
            file,
            path: `semantic_models.${i}.measures.${j}`,
          });
      });
    });
    (parsed.data.metrics ?? []).forEach((spec, i) => metricSpecs.push({ spec, file, path: `metrics.${i}` }));
  }

  const metrics = new Map<string, Metric>();
  for (const { spec, file, path } of metricSpecs) {
    if (!claim('metric', spec.name, file, `${path}.name`)) continue;
    const metric = buildMetric(spec, file, path, measures, problems);
    if (metric) metrics.set(metric.name, metric);
  }
  // References between metrics, once all are known; a cycle would recurse forever in the compiler.
  for (const { spec, file, path } of metricSpecs) {
    const metric = metrics.get(spec.name);
    if (!metric) continue;
    const refs: [MetricRef, string][] = [];
    if (metric.numerator) refs.push([metric.numerator, `${path}.type_params.numerator`]);
    if (metric.denominator) refs.push([metric.denominator, `${path}.type_params.denominator`]);
    metric.inputs?.forEach((r, k) => refs.push([r, `${path}.type_params.metrics.${k}`]));
    for (const [ref, at] of refs) {
      if (!metrics.has(ref.name) && !metricSpecs.some((s) => s.spec.name === ref.name)) {
        problems.push({
          file,
          path: at,
          message: 'unknown metric',
          value: ref.name,
          fix: `define metric ${ref.name}, or use one of: ${[...metrics.keys()].join(', ')}`,
        });
      }
    }
    if (dependsOn(metric.name, metric.name, metrics, new Set())) {
      problems.push({ file, path, message: 'metric depends on itself', value: metric.name, fix: 'break the cycle between its input metrics' });
    }
  }
  return { layer: { models, measures, metrics }, problems };
}

function dependsOn(target: string, from: string, metrics: ReadonlyMap<string, Metric>, visiting: Set<string>): boolean {
  if (visiting.has(from)) return false;
  visiting.add(from);
  const m = metrics.get(from);
  const refs = [m?.numerator, m?.denominator, ...(m?.inputs ?? [])].filter((r): r is MetricRef => r !== undefined);
  return refs.some((r) => r.name === target || dependsOn(target, r.name, metrics, visiting));
}

function buildModel(spec: SemanticModelSpec, file: string, path: string, problems: ConfigProblem[]): SemanticModel {
  const table = /^\s*ref\(\s*['"]([^'"]+)['"]\s*\)\s*$/.exec(spec.model)?.[1] ?? spec.model.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table)) {
    problems.push({
      file,
      path: `${path}.model`,
      message: 'model must name a table',
      value: spec.model,
      fix: "write ref('orders') or a table name such as orders or sales.orders",
    });
  }
  const entities: Entity[] = spec.entities.map((e, i) => {
    if (e.type === 'natural') {
      problems.push({
        file,
        path: `${path}.entities.${i}.type`,
        message: 'natural entities (slowly changing dimension joins) are not supported by dropkit',
        value: e.type,
        fix: 'use a primary, unique or foreign entity',
      });
    }
    return { name: e.name, type: e.type, expr: exprText(e.expr, e.name) };
  });
  if (spec.primary_entity && !entities.some((e) => e.name === spec.primary_entity)) {
    // MetricFlow allows a primary entity with no column (for dimension-only models); give it no join.
    entities.push({ name: spec.primary_entity, type: 'primary', expr: '' });
  }
  const dimensions: Dimension[] = spec.dimensions.map((d, i) => {
    const at = `${path}.dimensions.${i}`;
    let grain: Granularity | undefined;
    if (d.type === 'time') {
      const g = d.type_params?.time_granularity;
      if (!g)
        problems.push({
          file,
          path: `${at}.type_params.time_granularity`,
          message: 'a time dimension needs its granularity',
          fix: 'add type_params: { time_granularity: day }',
        });
      else if (!(GRANULARITIES as readonly string[]).includes(g))
        problems.push({
          file,
          path: `${at}.type_params.time_granularity`,
          message: 'sub-daily granularities are not supported by dropkit',
          value: g,
          fix: `use one of: ${GRANULARITIES.join(', ')}`,
        });
      else grain = g as Granularity;
    }
    if (d.type_params?.validity_params)
      problems.push({
        file,
        path: `${at}.type_params.validity_params`,
        message: 'validity_params (SCD type II) are not supported by dropkit',
        fix: 'remove validity_params',
      });
    return { name: d.name, type: d.type, expr: exprText(d.expr, d.name), grain, description: d.description };
  });
  const measures: Measure[] = spec.measures.map((m, i) => buildMeasure(m, spec, dimensions, file, `${path}.measures.${i}`, problems));
  return { name: spec.name, table, file, description: spec.description, entities, dimensions, measures };
}

function buildMeasure(m: MeasureSpec, model: SemanticModelSpec, dimensions: Dimension[], file: string, at: string, problems: ConfigProblem[]): Measure {
  if (m.agg === 'percentile' || m.agg === 'median') {
    problems.push({
      file,
      path: `${at}.agg`,
      message: `${m.agg} is not supported by dropkit: DuckDB and Athena compute percentiles differently, so the two engines would deliver different numbers`,
      value: m.agg,
      fix: `use one of: ${SUPPORT.aggregations.join(', ')}`,
    });
  }
  if (m.non_additive_dimension)
    problems.push({
      file,
      path: `${at}.non_additive_dimension`,
      message: 'non_additive_dimension is not supported by dropkit',
      fix: 'remove it, or compute the snapshot in the model table',
    });
  if (m.agg_params)
    problems.push({ file, path: `${at}.agg_params`, message: 'agg_params (percentile settings) are not supported by dropkit', fix: 'remove agg_params' });
  const aggTime = m.agg_time_dimension ?? model.defaults?.agg_time_dimension;
  const timeDim = dimensions.find((d) => d.name === aggTime);
  if (!aggTime) {
    problems.push({
      file,
      path: `${at}.agg_time_dimension`,
      message: 'measure has no time dimension for metric_time',
      value: m.name,
      fix: `set agg_time_dimension on the measure, or defaults: { agg_time_dimension: <a time dimension> } on semantic model ${model.name}`,
    });
  } else if (!timeDim || timeDim.type !== 'time') {
    problems.push({
      file,
      path: m.agg_time_dimension ? `${at}.agg_time_dimension` : 'defaults.agg_time_dimension',
      message: `agg_time_dimension must name a time dimension of semantic model ${model.name}`,
      value: aggTime,
      fix: `use one of: ${
        dimensions
          .filter((d) => d.type === 'time')
          .map((d) => d.name)
          .join(', ') || '(add a dimension with type: time)'
      }`,
    });
  }
  const agg = m.agg === 'percentile' || m.agg === 'median' ? 'sum' : m.agg;
  return { name: m.name, model: model.name, agg, expr: exprText(m.expr, m.name), aggTimeDimension: aggTime ?? '', description: m.description };
}

function exprText(expr: string | number | boolean | undefined, fallback: string): string {
  if (expr === undefined) return fallback;
  if (typeof expr === 'boolean') return expr ? 'TRUE' : 'FALSE';
  return String(expr);
}

const filters = (f: string | string[] | undefined): string[] => (f === undefined ? [] : Array.isArray(f) ? f : [f]);

function metricRef(input: MetricInput, file: string, at: string, problems: ConfigProblem[]): MetricRef {
  if (typeof input === 'string') return { name: input, filters: [] };
  if (input.offset_window || input.offset_to_grain) {
    problems.push({
      file,
      path: `${at}.${input.offset_window ? 'offset_window' : 'offset_to_grain'}`,
      message: 'offset metrics (period over period) are not supported by dropkit',
      value: input.offset_window ?? input.offset_to_grain,
      fix: 'remove the offset, or deliver the periods as separate rows and compare downstream',
    });
  }
  return { name: input.name, alias: input.alias, filters: filters(input.filter) };
}

function measureRef(input: MeasureInput, file: string, at: string, problems: ConfigProblem[]) {
  if (typeof input === 'string') return { name: input, filters: [] };
  if (input.join_to_timespine)
    problems.push({
      file,
      path: `${at}.join_to_timespine`,
      message: 'join_to_timespine is not supported by dropkit',
      value: true,
      fix: 'remove it: a day without rows is then absent rather than filled',
    });
  if (input.alias)
    problems.push({ file, path: `${at}.alias`, message: 'measure aliases are not supported by dropkit', value: input.alias, fix: 'remove the alias' });
  return { name: input.name, filters: filters(input.filter), fillNullsWith: input.fill_nulls_with };
}

/** "7 days", "1 month": MetricFlow's window syntax. */
export function parseWindow(text: string): Window | undefined {
  const m = /^\s*(\d+)\s+(day|week|month|quarter|year)s?\s*$/i.exec(text);
  return m ? { count: Number(m[1]), unit: m[2]!.toLowerCase() as Granularity } : undefined;
}

function buildMetric(spec: MetricSpec, file: string, path: string, measures: ReadonlyMap<string, Measure>, problems: ConfigProblem[]): Metric | undefined {
  const tp = spec.type_params;
  const base = { name: spec.name, file, description: spec.description, label: spec.label, filters: filters(spec.filter) };
  const needMeasure = () => {
    if (!tp.measure) {
      problems.push({
        file,
        path: `${path}.type_params.measure`,
        message: `a ${spec.type} metric needs a measure`,
        fix: 'add type_params: { measure: <measure name> }',
      });
      return undefined;
    }
    const ref = measureRef(tp.measure, file, `${path}.type_params.measure`, problems);
    if (!measures.has(ref.name)) {
      problems.push({
        file,
        path: `${path}.type_params.measure`,
        message: 'unknown measure',
        value: ref.name,
        fix: `define measure ${ref.name} in a semantic model, or use one of: ${[...measures.keys()].join(', ')}`,
      });
      return undefined;
    }
    return ref;
  };
  if (spec.time_granularity)
    problems.push({
      file,
      path: `${path}.time_granularity`,
      message: 'a default time_granularity per metric is not supported by dropkit',
      value: spec.time_granularity,
      fix: 'remove it and name the grain in the feed: group_by: [metric_time__month]',
    });
  switch (spec.type) {
    case 'simple': {
      const measure = needMeasure();
      return measure && { ...base, type: 'simple', measure };
    }
    case 'cumulative': {
      const measure = needMeasure();
      const ctp = tp.cumulative_type_params;
      if (ctp?.period_agg)
        problems.push({
          file,
          path: `${path}.type_params.cumulative_type_params.period_agg`,
          message: 'period_agg is not supported by dropkit: a cumulative metric is delivered at the grain of its time dimension',
          value: ctp.period_agg,
          fix: 'remove period_agg and group by metric_time at the day grain',
        });
      const windowText = ctp?.window ?? tp.window;
      const grainText = ctp?.grain_to_date ?? tp.grain_to_date;
      const windowAt = `${path}.type_params.${ctp?.window ? 'cumulative_type_params.' : ''}window`;
      const grainAt = `${path}.type_params.${ctp?.grain_to_date ? 'cumulative_type_params.' : ''}grain_to_date`;
      let window: Window | undefined;
      let grainToDate: Granularity | undefined;
      if (windowText !== undefined) {
        window = parseWindow(windowText);
        if (!window)
          problems.push({
            file,
            path: windowAt,
            message: 'not a window',
            value: windowText,
            fix: 'write a count and a unit, e.g. "7 days", "2 weeks" or "1 month"',
          });
      }
      if (grainText !== undefined) {
        if ((GRANULARITIES as readonly string[]).includes(grainText)) grainToDate = grainText as Granularity;
        else problems.push({ file, path: grainAt, message: 'not a granularity', value: grainText, fix: `use one of: ${GRANULARITIES.join(', ')}` });
      }
      if (windowText !== undefined && grainText !== undefined)
        problems.push({ file, path: grainAt, message: 'give window or grain_to_date, not both', fix: 'remove one of them' });
      return measure && { ...base, type: 'cumulative', measure, window, grainToDate };
    }
    case 'ratio': {
      if (!tp.numerator || !tp.denominator) {
        problems.push({
          file,
          path: `${path}.type_params.${tp.numerator ? 'denominator' : 'numerator'}`,
          message: 'a ratio metric needs a numerator and a denominator',
          fix: 'add type_params: { numerator: <metric>, denominator: <metric> }',
        });
        return undefined;
      }
      return {
        ...base,
        type: 'ratio',
        numerator: metricRef(tp.numerator, file, `${path}.type_params.numerator`, problems),
        denominator: metricRef(tp.denominator, file, `${path}.type_params.denominator`, problems),
      };
    }
    case 'derived': {
      if (tp.expr === undefined || !tp.metrics?.length) {
        problems.push({
          file,
          path: `${path}.type_params.${tp.expr === undefined ? 'expr' : 'metrics'}`,
          message: 'a derived metric needs expr and metrics',
          fix: 'add type_params: { expr: a - b, metrics: [a, b] }',
        });
        return undefined;
      }
      return {
        ...base,
        type: 'derived',
        expr: String(tp.expr),
        inputs: tp.metrics.map((m, k) => metricRef(m, file, `${path}.type_params.metrics.${k}`, problems)),
      };
    }
    case 'conversion':
      problems.push({
        file,
        path: `${path}.type`,
        message: 'conversion metrics are not supported by dropkit',
        value: spec.type,
        fix: `use one of: ${SUPPORT.metricTypes.join(', ')}`,
      });
      return undefined;
  }
}

function issues(file: string, raw: unknown, list: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return list.map((issue) => {
    const path = issue.path.map(String);
    let value: unknown = raw;
    for (const p of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[p] : undefined;
    if (issue.code === 'unrecognized_keys')
      return {
        file,
        path: path.join('.'),
        message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`,
        fix: 'remove it or correct its spelling (see the dbt semantic layer docs for the fields)',
      };
    if (issue.code === 'invalid_value')
      return {
        file,
        path: path.join('.'),
        message: 'not an allowed value',
        value,
        fix: `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    if (issue.code === 'invalid_type' && value === undefined)
      return { file, path: path.join('.'), message: 'required field is missing', fix: `add ${path[path.length - 1]}: (${issue.expected})` };
    return { file, path: path.join('.'), message: issue.message, value };
  });
}
