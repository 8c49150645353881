import { parse } from 'yaml';
import { buildSemanticLayer } from '../../lib/semantic/semantic-layer';

/* Validation of the semantic YAML itself: every problem names file, field, value and fix. */

const MODEL = `semantic_models:
  - name: orders
    model: ref('orders')
    defaults: { agg_time_dimension: ordered_at }
    entities: [{ name: order, type: primary, expr: order_id }]
    dimensions: [{ name: ordered_at, type: time, type_params: { time_granularity: day } }]
    measures:
      - { name: amount, agg: sum, create_metric: true }
      - { name: undated, agg: sum, agg_time_dimension: nope }
`;
const build = (...texts: string[]) => buildSemanticLayer(texts.map((t, i) => ({ file: `semantic/f${i}.yml`, raw: parse(t) })));

describe('buildSemanticLayer', () => {
  it('resolves a model and the metric create_metric makes of a measure', () => {
    const { layer, problems } = build(MODEL.replace('      - { name: undated, agg: sum, agg_time_dimension: nope }\n', ''));
    expect(problems).toEqual([]);
    expect(layer.models.get('orders')!.table).toBe('orders');
    expect(layer.metrics.get('amount')).toMatchObject({ type: 'simple', measure: { name: 'amount' } });
  });

  it('refuses an agg_time_dimension that is not a time dimension of the model, listing those that are', () => {
    const { problems } = build(MODEL);
    expect(problems).toContainEqual(
      expect.objectContaining({
        file: 'semantic/f0.yml',
        path: 'semantic_models.0.measures.1.agg_time_dimension',
        value: 'nope',
        fix: 'use one of: ordered_at',
      }),
    );
  });

  it('refuses unknown measures and metrics, cycles, and names used twice across files', () => {
    const metrics = `metrics:
  - { name: m1, label: M1, type: simple, type_params: { measure: missing } }
  - { name: r1, label: R1, type: ratio, type_params: { numerator: amount, denominator: ghost } }
  - { name: d1, label: D1, type: derived, type_params: { expr: d2 + 1, metrics: [d2] } }
  - { name: d2, label: D2, type: derived, type_params: { expr: d1 - 1, metrics: [d1] } }
  - { name: amount, label: Again, type: simple, type_params: { measure: amount } }
`;
    const { problems } = build(MODEL, metrics);
    const at = (path: string) => problems.filter((p) => p.file === 'semantic/f1.yml' && p.path === path);
    expect(at('metrics.0.type_params.measure')).toEqual([expect.objectContaining({ message: 'unknown measure', value: 'missing' })]);
    expect(at('metrics.1.type_params.denominator')).toEqual([expect.objectContaining({ message: 'unknown metric', value: 'ghost' })]);
    expect(at('metrics.2')).toEqual([expect.objectContaining({ message: 'metric depends on itself' })]);
    expect(at('metrics.4.name')).toEqual([
      expect.objectContaining({ message: expect.stringContaining('metric name already used in semantic/f0.yml'), value: 'amount' }),
    ]);
  });

  it('refuses a field dbt does not know, a bad window and a metric without the label dbt requires', () => {
    const { problems } = build(`metrics:
  - { name: c1, label: C1, type: cumulative, colour: red, type_params: { measure: x, window: a week } }
  - { name: c2, type: simple, type_params: { measure: x } }
`);
    expect(problems).toContainEqual(expect.objectContaining({ path: 'metrics.0', message: 'unknown field colour' }));
    expect(problems).toContainEqual(expect.objectContaining({ path: 'metrics.1.label', message: 'required field is missing' }));
    const windowed = build(MODEL, `metrics:\n  - { name: c1, label: C1, type: cumulative, type_params: { measure: amount, window: a week } }\n`).problems;
    expect(windowed).toContainEqual(expect.objectContaining({ path: 'metrics.0.type_params.window', value: 'a week', fix: expect.stringContaining('7 days') }));
  });
});
