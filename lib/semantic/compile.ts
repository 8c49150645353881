import { DropkitError } from '../core/errors';
import type { Manifest } from '../core/manifest';
import type { SemanticDialect } from './dialect';
import type { Dimension, Measure, Metric, MetricRef, SemanticLayer, SemanticModel, Window } from './semantic-layer';
import { GRANULARITIES, type Granularity } from './semantic-schema';

/**
 * Compiles a metric selection (metrics, group_by, where) over a semantic layer into one plan, and
 * the plan into SQL through a dialect. The SQL keeps `$window_start` / `$window_end` (applied to
 * metric_time) and any `$name` of the where clause as parameters the engine binds, always inside
 * WHERE clauses (Athena takes parameters only there).
 *
 * Semantics follow MetricFlow: filters apply before aggregation; each measure is aggregated on its
 * own semantic model, joined many-to-one along entities to reach other models' dimensions; metrics
 * of different measures meet on the group-by keys (a key missing on one side gives NULL there);
 * ratio = CAST(num AS DOUBLE) / CAST(NULLIF(den, 0) AS DOUBLE); count is SUM(1 per non-null value).
 */

export interface MetricQuery {
  readonly metrics: readonly string[];
  readonly groupBy: readonly string[];
  readonly where?: string | readonly string[];
}

/** A selection that cannot be compiled: the message says why and what would work. */
export class SemanticQueryError extends DropkitError {
  readonly field: string;
  readonly value: unknown;
  readonly fix: string;
  constructor(field: string, message: string, value: unknown, fix: string) {
    super(message);
    this.name = 'SemanticQueryError';
    this.field = field;
    this.value = value;
    this.fix = fix;
  }
}

/** What one output column is, for the manifest's `semantics` block. */
export type ColumnSemantics = NonNullable<Manifest['semantics']>['columns'][number];

interface GroupKey {
  readonly column: string;
  /** metric_time, or [entity, dimension] with an optional grain, or an entity alone. */
  readonly ref:
    | { kind: 'metric_time'; grain: Granularity }
    | { kind: 'dimension'; entity: string; dimension: string; grain?: Granularity }
    | { kind: 'entity'; entity: string };
}

interface Leaf {
  readonly id: string;
  readonly measure: Measure;
  readonly filters: readonly string[];
  readonly cumulative?: { readonly window?: Window; readonly grainToDate?: Granularity };
}

type MetricExpr =
  | { kind: 'leaf'; leaf: string; fillNullsWith?: number }
  | { kind: 'ratio'; numerator: MetricExpr; denominator: MetricExpr }
  | { kind: 'derived'; expr: string; inputs: { name: string; value: MetricExpr }[] };

export interface SemanticPlan {
  readonly groupBy: readonly GroupKey[];
  readonly leaves: readonly Leaf[];
  readonly metrics: readonly { readonly name: string; readonly value: MetricExpr }[];
  readonly columns: readonly ColumnSemantics[];
}

const GRAIN_ORDER: Record<Granularity, number> = { day: 0, week: 1, month: 2, quarter: 3, year: 4 };
const isGrain = (s: string | undefined): s is Granularity => s !== undefined && (GRANULARITIES as readonly string[]).includes(s);

/** Reads a group-by name: metric_time__day, customer__country, order__ordered_at__month, customer. */
function parseGroupBy(name: string, field: string): GroupKey['ref'] {
  const parts = name.split('__');
  if (parts[0] === 'metric_time') {
    if (parts.length === 1) return { kind: 'metric_time', grain: 'day' };
    if (parts.length === 2 && isGrain(parts[1])) return { kind: 'metric_time', grain: parts[1] };
    throw new SemanticQueryError(field, `${name} is not a metric_time grain`, name, `use metric_time__${GRANULARITIES.join(', metric_time__')}`);
  }
  if (parts.some((p) => !/^[a-z][a-z0-9_]*$/.test(p))) {
    throw new SemanticQueryError(field, `${name} is not a dimension name`, name, 'write entity__dimension, e.g. customer__country, or metric_time__day');
  }
  if (parts.length === 1) return { kind: 'entity', entity: parts[0]! };
  const grain = parts.length >= 3 && isGrain(parts[parts.length - 1]) ? (parts.pop() as Granularity) : undefined;
  if (parts.length > 2) {
    throw new SemanticQueryError(
      field,
      `${name} joins through ${parts.length - 1} entities; dropkit joins one hop (entity__dimension)`,
      name,
      'add the dimension to a semantic model one join away, or to the measure’s own model',
    );
  }
  return { kind: 'dimension', entity: parts[0]!, dimension: parts[1]!, grain };
}

/** Builds the plan: which measures to aggregate with which filters, and how metrics combine them. */
export function planQuery(layer: SemanticLayer, query: MetricQuery): SemanticPlan {
  if (query.metrics.length === 0) throw new SemanticQueryError('select.metrics', 'no metrics selected', [], 'list at least one metric');
  const seenColumns = new Set<string>();
  const groupBy: GroupKey[] = query.groupBy.map((g, i) => {
    if (seenColumns.has(g)) throw new SemanticQueryError(`select.group_by.${i}`, `${g} is listed twice`, g, 'list each group-by once');
    seenColumns.add(g);
    return { column: g, ref: parseGroupBy(g, `select.group_by.${i}`) };
  });
  const where = query.where === undefined ? [] : typeof query.where === 'string' ? [query.where] : [...query.where];
  const leaves = new Map<string, Leaf>();
  const columns: ColumnSemantics[] = [];
  const leafFor = (measure: Measure, filters: string[], cumulative?: Leaf['cumulative']): string => {
    const key = JSON.stringify([measure.name, [...filters].sort(), cumulative ?? null]);
    const existing = leaves.get(key);
    if (existing) return existing.id;
    const id = `leaf_${leaves.size + 1}`;
    leaves.set(key, { id, measure, filters, cumulative });
    return id;
  };
  const expand = (name: string, filters: string[], field: string, stack: string[]): MetricExpr => {
    const metric = layer.metrics.get(name);
    if (!metric) throw new SemanticQueryError(field, `unknown metric ${name}`, name, `use one of: ${[...layer.metrics.keys()].sort().join(', ')}`);
    if (stack.includes(name)) throw new SemanticQueryError(field, `metric ${name} depends on itself`, name, 'break the cycle');
    const own = [...filters, ...metric.filters];
    const ref = (r: MetricRef) => expand(r.name, [...own, ...r.filters], field, [...stack, name]);
    switch (metric.type) {
      case 'simple':
      case 'cumulative': {
        const measure = layer.measures.get(metric.measure!.name)!;
        let cumulative: Leaf['cumulative'];
        if (metric.type === 'cumulative') {
          cumulative = { window: metric.window, grainToDate: metric.grainToDate };
          checkCumulative(metric, measure, layer, groupBy, field);
        }
        return { kind: 'leaf', leaf: leafFor(measure, [...own, ...metric.measure!.filters], cumulative), fillNullsWith: metric.measure!.fillNullsWith };
      }
      case 'ratio':
        return { kind: 'ratio', numerator: ref(metric.numerator!), denominator: ref(metric.denominator!) };
      case 'derived':
        return { kind: 'derived', expr: metric.expr!, inputs: metric.inputs!.map((r) => ({ name: r.alias ?? r.name, value: ref(r) })) };
    }
  };
  const metrics = query.metrics.map((name, i) => {
    if (seenColumns.has(name))
      throw new SemanticQueryError(`select.metrics.${i}`, `${name} is selected twice (or is also a group-by)`, name, 'list each column once');
    seenColumns.add(name);
    const value = expand(name, where, `select.metrics.${i}`, []);
    const metric = layer.metrics.get(name)!;
    columns.push({ column: name, kind: 'metric', name, ...described(metric.description), definition: describeMetric(metric, layer) });
    return { name, value };
  });
  const plan: SemanticPlan = { groupBy, leaves: [...leaves.values()], metrics, columns: [] };
  // Resolve every group-by and filter once now, so an unreachable dimension fails at check time.
  for (const leaf of plan.leaves) new LeafScope(layer, leaf.measure, 'select').resolveAll(groupBy, leaf.filters);
  const dimensionColumns = groupBy.map((g): ColumnSemantics => describeKey(g, layer, plan.leaves[0]!.measure));
  return { ...plan, columns: [...dimensionColumns, ...columns] };
}

function checkCumulative(metric: Metric, measure: Measure, layer: SemanticLayer, groupBy: readonly GroupKey[], field: string): void {
  const time = groupBy.find((g) => g.ref.kind === 'metric_time');
  const dim = layer.models.get(measure.model)!.dimensions.find((d) => d.name === measure.aggTimeDimension);
  if (!time || time.ref.kind !== 'metric_time' || time.ref.grain !== 'day' || dim?.grain !== 'day') {
    throw new SemanticQueryError(
      field,
      `cumulative metric ${metric.name} is computed per day over a daily time spine, so it needs metric_time__day in group_by${dim?.grain !== 'day' ? ` and a daily agg_time_dimension (${measure.aggTimeDimension} is ${dim?.grain ?? 'not a time dimension'})` : ''}`,
      metric.name,
      'group by metric_time__day (coarser grains would need period_agg, which dropkit does not support)',
    );
  }
}

function describeKey(g: GroupKey, layer: SemanticLayer, measure: Measure): ColumnSemantics {
  if (g.ref.kind === 'metric_time')
    return {
      column: g.column,
      kind: 'dimension',
      name: 'metric_time',
      description: `Time of each measure (its agg_time_dimension), truncated to the ${g.ref.grain}`,
      definition: `date_trunc('${g.ref.grain}', agg_time_dimension)`,
    };
  if (g.ref.kind === 'entity') return { column: g.column, kind: 'entity', name: g.ref.entity, definition: `entity ${g.ref.entity}` };
  const found = new LeafScope(layer, measure, 'select').findDimension(g.ref.entity, g.ref.dimension, g.column);
  const d = found.dimension;
  return {
    column: g.column,
    kind: 'dimension',
    name: `${g.ref.entity}__${g.ref.dimension}`,
    ...described(d.description),
    definition: `${found.model.name}.${d.expr}${g.ref.grain ? ` by ${g.ref.grain}` : ''}`,
  };
}

/** The manifest is plain JSON checked by a schema: no key with an undefined value. */
const described = (description: string | undefined) => (description ? { description } : {});

/** A readable definition of a metric: what the manifest records and `dropkit check --impact` compares. */
export function describeMetric(metric: Metric, layer: SemanticLayer): string {
  const where = metric.filters.length ? ` where ${metric.filters.join(' and ')}` : '';
  switch (metric.type) {
    case 'simple':
    case 'cumulative': {
      const m = layer.measures.get(metric.measure!.name);
      const mf = metric.measure!.filters.length ? ` where ${metric.measure!.filters.join(' and ')}` : '';
      const agg = m ? `${m.agg}(${m.expr}) of ${m.model}` : metric.measure!.name;
      const over =
        metric.type === 'simple'
          ? ''
          : metric.window
            ? ` over the trailing ${metric.window.count} ${metric.window.unit}(s)`
            : metric.grainToDate
              ? ` ${metric.grainToDate} to date`
              : ' over all time';
      return `${agg}${mf}${where}${over}`;
    }
    case 'ratio':
      return `${refText(metric.numerator!)} / ${refText(metric.denominator!)}${where}`;
    case 'derived':
      return `${metric.expr} with ${metric.inputs!.map(refText).join(', ')}${where}`;
  }
}
const refText = (r: MetricRef) => `${r.name}${r.alias ? ` as ${r.alias}` : ''}${r.filters.length ? ` (where ${r.filters.join(' and ')})` : ''}`;

/** How a scope writes SQL: the dialect's quoting, and a time column at a grain. */
interface ScopeSql {
  quoteIdent(name: string): string;
  time(grain: Granularity, column: string): string;
}

/** Planning only resolves names (the SQL it builds is thrown away), so it needs no dialect. */
const RESOLVE_ONLY: ScopeSql = { quoteIdent: (name) => name, time: (_grain, column) => column };

/** The SQL of a scope in the dialect being rendered. */
function dialectSql(d: SemanticDialect): ScopeSql {
  return { quoteIdent: (name) => d.quoteIdent(name), time: (grain, column) => d.toTimestamp(d.dateTrunc(grain, column)) };
}

interface Join {
  readonly alias: string;
  readonly model: SemanticModel;
  readonly entity: string;
}

/** Resolves names relative to one measure's semantic model, collecting the joins they need. */
class LeafScope {
  readonly model: SemanticModel;
  readonly joins: Join[] = [];
  constructor(
    private readonly layer: SemanticLayer,
    readonly measure: Measure,
    private readonly field: string,
    private readonly sql: ScopeSql = RESOLVE_ONLY,
  ) {
    this.model = layer.models.get(measure.model)!;
  }

  resolveAll(groupBy: readonly GroupKey[], filters: readonly string[]): void {
    for (const g of groupBy) if (g.ref.kind !== 'metric_time') this.keyColumn(g);
    for (const f of filters) this.renderFilter(f);
  }

  /** Where a dimension lives: this model (through its own primary/unique entity) or one join away. */
  findDimension(entity: string, dimension: string, asked: string): { model: SemanticModel; dimension: Dimension; alias: string } {
    const own = this.model.entities.find((e) => e.name === entity);
    const local = this.model.dimensions.find((d) => d.name === dimension);
    if (own && own.type !== 'foreign' && local) return { model: this.model, dimension: local, alias: 'm0' };
    const candidates = [...this.layer.models.values()].filter(
      (m) => m !== this.model && m.entities.some((e) => e.name === entity) && m.dimensions.some((d) => d.name === dimension),
    );
    if (candidates.length === 0) {
      throw new SemanticQueryError(
        this.field,
        `${asked}: no semantic model with entity ${entity} has a dimension ${dimension}`,
        asked,
        `check the name; dimensions reachable from ${this.model.name} are listed by its entities (${this.model.entities.map((e) => e.name).join(', ')})`,
      );
    }
    if (!own) {
      throw new SemanticQueryError(
        this.field,
        `${asked}: measure ${this.measure.name} (semantic model ${this.model.name}) has no entity ${entity} to join ${candidates[0]!.name} on`,
        asked,
        `add entity ${entity} to ${this.model.name}, or leave ${asked} out of this selection`,
      );
    }
    const oneRowPerKey = candidates.find((m) => m.entities.some((e) => e.name === entity && (e.type === 'primary' || e.type === 'unique')));
    if (!oneRowPerKey) {
      const other = candidates[0]!;
      throw new SemanticQueryError(
        this.field,
        `${asked}: joining ${other.name} to ${this.model.name} on ${entity} would fan out: ${other.name} holds many rows per ${entity} (its ${entity} entity is foreign), so each ${this.model.name} row would repeat and ${this.measure.name} would be counted several times`,
        asked,
        `group by a dimension of a model where ${entity} is primary or unique, or select a metric whose measure lives in ${other.name}`,
      );
    }
    const dim = oneRowPerKey.dimensions.find((d) => d.name === dimension)!;
    let join = this.joins.find((j) => j.model === oneRowPerKey && j.entity === entity);
    if (!join) {
      join = { alias: `j${this.joins.length + 1}`, model: oneRowPerKey, entity };
      this.joins.push(join);
    }
    return { model: oneRowPerKey, dimension: dim, alias: join.alias };
  }

  /** The SQL of a group-by key other than metric_time. */
  keyColumn(g: GroupKey): string {
    const ref = g.ref;
    if (ref.kind === 'metric_time') throw new Error('metric_time is placed by the caller');
    if (ref.kind === 'entity') {
      const e = this.model.entities.find((x) => x.name === ref.entity && x.expr);
      if (!e)
        throw new SemanticQueryError(
          this.field,
          `${g.column}: measure ${this.measure.name} (semantic model ${this.model.name}) has no entity ${ref.entity}`,
          g.column,
          `group by one of its entities: ${this.model.entities.map((x) => x.name).join(', ')}`,
        );
      return `m0.${this.sql.quoteIdent(entityColumn(e.name))}`;
    }
    return this.dimensionSql(ref.entity, ref.dimension, ref.grain, g.column);
  }

  dimensionSql(entity: string, dimension: string, grain: Granularity | undefined, asked: string): string {
    const found = this.findDimension(entity, dimension, asked);
    const col = `${found.alias}.${this.sql.quoteIdent(dimensionColumn(found.dimension.name))}`;
    if (found.dimension.type !== 'time') {
      if (grain) throw new SemanticQueryError(this.field, `${asked}: ${dimension} is categorical and has no grain`, asked, `drop the __${grain}`);
      return col;
    }
    const g = grain ?? found.dimension.grain!;
    if (GRAIN_ORDER[g] < GRAIN_ORDER[found.dimension.grain!]) {
      throw new SemanticQueryError(
        this.field,
        `${asked}: ${dimension} holds ${found.dimension.grain}s, so it cannot be split by ${g}`,
        asked,
        `use __${found.dimension.grain} or a coarser grain`,
      );
    }
    return this.sql.time(g, col);
  }

  /** Replaces each {{ Dimension('x__y') }}, {{ TimeDimension('x__y', 'grain') }}, {{ Entity('x') }} with its column. */
  renderFilter(filter: string): string {
    return filter.replace(/\{\{(.*?)\}\}/gs, (whole, inner: string) => {
      const m = /^\s*(Dimension|TimeDimension|Entity)\(\s*['"]([a-z0-9_]+)['"]\s*(?:,\s*['"]([a-z]+)['"]\s*)?\)(?:\.grain\(\s*['"]([a-z]+)['"]\s*\))?\s*$/.exec(
        inner,
      );
      if (!m) {
        throw new SemanticQueryError(
          this.field,
          `cannot read the filter template ${whole.trim()}`,
          filter,
          "write {{ Dimension('entity__dimension') }}, {{ TimeDimension('entity__time_dim', 'day') }} or {{ Entity('entity') }}",
        );
      }
      const [, fn, ref, grainArg, grainCall] = m;
      const grain = grainArg ?? grainCall;
      if (grain !== undefined && !isGrain(grain))
        throw new SemanticQueryError(this.field, `${grain} is not a granularity`, filter, `use one of: ${GRANULARITIES.join(', ')}`);
      if (fn === 'Entity') return this.keyColumn({ column: ref!, ref: { kind: 'entity', entity: ref! } });
      const parsed = parseGroupBy(ref!, this.field);
      if (parsed.kind === 'metric_time') {
        const g = (grain as Granularity | undefined) ?? parsed.grain;
        return this.sql.time(g, `m0.${this.sql.quoteIdent(dimensionColumn(this.measure.aggTimeDimension))}`);
      }
      if (parsed.kind === 'entity')
        throw new SemanticQueryError(this.field, `${fn}('${ref}') names an entity`, filter, `use {{ Entity('${ref}') }} or entity__dimension`);
      return this.dimensionSql(parsed.entity, parsed.dimension, (grain as Granularity | undefined) ?? parsed.grain, ref!);
    });
  }

  /** FROM with the model's columns projected under fixed names, then the joins. */
  fromClause(d: SemanticDialect, indent: string): string {
    const lines = [`FROM ${projection(this.model, d)} AS m0`];
    for (const j of this.joins) {
      const left = this.model.entities.find((e) => e.name === j.entity)!;
      lines.push(
        `LEFT OUTER JOIN ${projection(j.model, d)} AS ${j.alias} ON m0.${d.quoteIdent(entityColumn(left.name))} = ${j.alias}.${d.quoteIdent(entityColumn(j.entity))}`,
      );
    }
    return lines.join(`\n${indent}`);
  }
}

// Fixed column names inside the projections keep expressions of different models apart.
const entityColumn = (n: string) => `e__${n}`;
const dimensionColumn = (n: string) => `d__${n}`;
const measureColumn = (n: string) => `m__${n}`;

function projection(model: SemanticModel, d: SemanticDialect): string {
  const cols = [
    ...model.entities.filter((e) => e.expr).map((e) => `${e.expr} AS ${d.quoteIdent(entityColumn(e.name))}`),
    ...model.dimensions.map((x) => `${x.expr} AS ${d.quoteIdent(dimensionColumn(x.name))}`),
    ...model.measures.map((m) => `${m.expr} AS ${d.quoteIdent(measureColumn(m.name))}`),
  ];
  const table = model.table
    .split('.')
    .map((p) => d.quoteIdent(p))
    .join('.');
  return `(SELECT ${cols.join(', ')} FROM ${table})`;
}

function aggregate(measure: Measure, value: string): string {
  switch (measure.agg) {
    case 'sum':
      return `SUM(${value})`;
    case 'min':
      return `MIN(${value})`;
    case 'max':
      return `MAX(${value})`;
    case 'average':
      return `AVG(${value})`;
    case 'count_distinct':
      return `COUNT(DISTINCT ${value})`;
    // MetricFlow turns count into a sum of 1 per non-null value, and sum_boolean into a sum of 1/0.
    // BIGINT: DuckDB would widen the sum to HUGEINT, which Parquet and Athena do not have.
    case 'count':
      return `CAST(SUM(CASE WHEN ${value} IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT)`;
    case 'sum_boolean':
      return `CAST(SUM(CASE WHEN ${value} THEN 1 ELSE 0 END) AS BIGINT)`;
  }
}

export interface CompileOptions {
  /**
   * Bind metric_time to [$window_start, $window_end), the slot's data interval.
   * @default true
   */
  readonly window?: boolean;
}

/** Renders the plan as one SELECT in the dialect. */
export function renderPlan(layer: SemanticLayer, plan: SemanticPlan, d: SemanticDialect, options: CompileOptions = {}): string {
  const windowed = options.window !== false;
  const sql = dialectSql(d);
  const ctes: string[] = [];
  const keyCols = plan.groupBy.map((g) => d.quoteIdent(g.column));
  for (const leaf of plan.leaves) {
    const scope = new LeafScope(layer, leaf.measure, 'select', sql);
    const rawTime = `m0.${d.quoteIdent(dimensionColumn(leaf.measure.aggTimeDimension))}`;
    const value = `m0.${d.quoteIdent(measureColumn(leaf.measure.name))}`;
    const keys = plan.groupBy.map((g) => ({ g, sql: g.ref.kind === 'metric_time' ? sql.time(g.ref.grain, rawTime) : scope.keyColumn(g) }));
    const filters = leaf.filters.map((f) => `(${scope.renderFilter(f)})`);
    const ws = '$window_start';
    const we = '$window_end';
    if (!leaf.cumulative) {
      const where = [...(windowed ? [`${rawTime} >= ${ws}`, `${rawTime} < ${we}`] : []), ...filters];
      ctes.push(
        [
          `${d.quoteIdent(leaf.id)} AS (`,
          `  SELECT ${[...keys.map((k) => `${k.sql} AS ${d.quoteIdent(k.g.column)}`), `${aggregate(leaf.measure, value)} AS ${d.quoteIdent('value')}`].join(', ')}`,
          `  ${scope.fromClause(d, '  ')}`,
          ...(where.length ? [`  WHERE ${where.join(' AND ')}`] : []),
          ...(keys.length ? [`  GROUP BY ${keys.map((_, i) => i + 1).join(', ')}`] : []),
          ')',
        ].join('\n'),
      );
      continue;
    }
    // Cumulative: every day of the spine takes the measure's rows from its window (MetricFlow's join over a time range).
    const c = leaf.cumulative;
    const day = d.toTimestamp(d.dateTrunc('day', rawTime));
    const srcWhere = [...filters];
    if (windowed) {
      if (c.window) srcWhere.push(`${rawTime} >= ${d.addInterval(d.dateTrunc('day', ws), -c.window.count, c.window.unit)}`);
      else if (c.grainToDate) srcWhere.push(`${rawTime} >= ${d.dateTrunc(c.grainToDate, ws)}`);
      srcWhere.push(`${rawTime} < ${we}`);
    }
    const others = keys.filter((k) => k.g.ref.kind !== 'metric_time');
    const spine = 'spine.' + d.quoteIdent('ds');
    const on = [`src.${d.quoteIdent('__day')} <= ${spine}`];
    if (c.window) on.push(`src.${d.quoteIdent('__day')} > ${d.addInterval(spine, -c.window.count, c.window.unit)}`);
    else if (c.grainToDate) on.push(`src.${d.quoteIdent('__day')} >= ${d.dateTrunc(c.grainToDate, spine)}`);
    const outerKeys = keys.map((k) =>
      k.g.ref.kind === 'metric_time' ? `${spine} AS ${d.quoteIdent(k.g.column)}` : `src.${d.quoteIdent(k.g.column)} AS ${d.quoteIdent(k.g.column)}`,
    );
    ctes.push(
      [
        `${d.quoteIdent(leaf.id)} AS (`,
        `  SELECT ${[...outerKeys, `${aggregate(leaf.measure, `src.${d.quoteIdent('__value')}`)} AS ${d.quoteIdent('value')}`].join(', ')}`,
        `  FROM ${d.daySpine('ds')} AS spine`,
        `  INNER JOIN (`,
        `    SELECT ${[`${day} AS ${d.quoteIdent('__day')}`, ...others.map((k) => `${k.sql} AS ${d.quoteIdent(k.g.column)}`), `${value} AS ${d.quoteIdent('__value')}`].join(', ')}`,
        `    ${scope.fromClause(d, '    ')}`,
        ...(srcWhere.length ? [`    WHERE ${srcWhere.join(' AND ')}`] : []),
        `  ) AS src ON ${on.join(' AND ')}`,
        ...(windowed ? [`  WHERE ${spine} >= ${d.dateTrunc('day', ws)} AND ${spine} < ${we}`] : []),
        `  GROUP BY ${keys.map((_, i) => i + 1).join(', ')}`,
        ')',
      ].join('\n'),
    );
  }

  const metricSql = (e: MetricExpr): string => {
    switch (e.kind) {
      case 'leaf': {
        const v = `${d.quoteIdent(e.leaf)}.${d.quoteIdent('value')}`;
        return e.fillNullsWith === undefined ? v : `COALESCE(${v}, ${e.fillNullsWith})`;
      }
      case 'ratio':
        return `${d.toDouble(metricSql(e.numerator))} / ${d.toDouble(`NULLIF(${metricSql(e.denominator)}, 0)`)}`;
      case 'derived':
        return substituteNames(e.expr, new Map(e.inputs.map((i) => [i.name, `(${metricSql(i.value)})`])));
    }
  };
  const selects = plan.metrics.map((m) => `${metricSql(m.value)} AS ${d.quoteIdent(m.name)}`);
  const leafIds = plan.leaves.map((l) => d.quoteIdent(l.id));
  let body: string;
  if (keyCols.length === 0) {
    body = `SELECT ${selects.join(', ')}\nFROM ${leafIds.join(' CROSS JOIN ')}`;
  } else {
    ctes.push(`${d.quoteIdent('keys')} AS (\n  ${leafIds.map((l) => `SELECT ${keyCols.join(', ')} FROM ${l}`).join('\n  UNION\n  ')}\n)`);
    const joins = leafIds.map(
      (l) => `LEFT OUTER JOIN ${l} ON ${keyCols.map((k) => `${l}.${k} IS NOT DISTINCT FROM ${d.quoteIdent('keys')}.${k}`).join(' AND ')}`,
    );
    body = [
      `SELECT ${[...keyCols.map((k) => `${d.quoteIdent('keys')}.${k} AS ${k}`), ...selects].join(', ')}`,
      `FROM ${d.quoteIdent('keys')}`,
      ...joins,
      `ORDER BY ${keyCols.map((_, i) => i + 1).join(', ')}`,
    ].join('\n');
  }
  return `WITH\n${ctes.join(',\n')}\n${body}\n`;
}

/** Replaces whole-word metric names in a derived metric's expression, leaving quoted text alone. */
function substituteNames(expr: string, values: ReadonlyMap<string, string>): string {
  return expr.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\b[A-Za-z_][A-Za-z0-9_]*\b/g, (token) => values.get(token) ?? token);
}

/** Plans and renders in one call. */
export function compileMetricQuery(
  layer: SemanticLayer,
  query: MetricQuery,
  dialect: SemanticDialect,
  options: CompileOptions = {},
): { sql: string; plan: SemanticPlan } {
  const plan = planQuery(layer, query);
  return { sql: renderPlan(layer, plan, dialect, options), plan };
}
