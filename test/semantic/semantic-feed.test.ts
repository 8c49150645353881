import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ConfigProblem } from '../../lib/core/errors';
import { manifestProblems } from '../../lib/core/manifest-schema';
import { loadProject } from '../../lib/project/load-project';
import { dropkit } from '../helpers/cli';
import { readJson, runFeed } from '../helpers/local-run';
import { tempProject, TempProject } from '../helpers/temp-project';
import { runRows, seededDuckDb, SHOP_SEMANTIC_FILE, sortRows } from './semantic-fixture';

/*
 * A feed written as a metric selection goes through the normal pipeline: its SQL is compiled at
 * load (so `dropkit check` refuses what cannot compile, naming file, field, value and fix), it is
 * staged, validated and delivered on DuckDB, and its manifest says what each column is.
 */

const SHOP_YAML = readFileSync(SHOP_SEMANTIC_FILE, 'utf8');
const PROJECT = `name: shop
sources:
  orders: data/orders.parquet
  customers: data/customers.parquet
  returns: data/returns.parquet
`;
const feed = (name: string, body: string) => `name: ${name}
description: test
owner: tests@example.com
schedule:
  cron: "0 0 * * *"
  timezone: UTC
sla:
  deliverWithin: PT6H
formats:
  csv:
    gzip: false
${body}`;
const KPIS = feed(
  'kpis',
  `delivery: per-partner
select:
  metrics: [gross_sales, orders, aov, sales_7d]
  group_by: [metric_time__day, customer__country]
  where: "{{ Dimension('order__partner_id') }} = $partner_id"
orderBy: [metric_time__day, customer__country]
checks:
  - type: row_count
    min: 1
partners:
  - id: acme
  - id: globex
`,
);
const SQL_FEED = feed('plain', 'delivery: shared\n');

async function shopProject(files: Record<string, string>): Promise<TempProject> {
  const p = tempProject({ 'dropkit.yaml': PROJECT, 'semantic/shop.yml': SHOP_YAML, ...files });
  const { connection, close } = await seededDuckDb();
  mkdirSync(join(p.dir, 'data'));
  try {
    for (const t of ['orders', 'customers', 'returns']) {
      await connection.run(`COPY raw_${t} TO '${join(p.dir, 'data', `${t}.parquet`).replace(/'/g, "''")}' (FORMAT parquet)`);
    }
  } finally {
    close();
  }
  return p;
}

function problemsOf(dir: string): ConfigProblem[] {
  try {
    loadProject(dir);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('the project loaded');
}

describe('a feed that selects metrics', () => {
  let p: TempProject;
  beforeAll(async () => {
    p = await shopProject({
      'feeds/kpis.yaml': KPIS,
      'feeds/plain.yaml': SQL_FEED,
      'feeds/plain.sql': 'SELECT 1 AS x FROM orders WHERE ordered_at >= $window_start',
    });
  });
  afterAll(() => p.cleanup());

  it('loads with SQL compiled for both engines and the meaning of each column', () => {
    const kpis = loadProject(p.dir).feeds.find((f) => f.spec.name === 'kpis')!;
    expect(kpis.sql.duckdb).toContain('$partner_id');
    expect(kpis.sql.athena).toContain("date_add('day'");
    expect(kpis.sql.duckdb).not.toEqual(kpis.sql.athena);
    expect(kpis.semantics!.columns.map((c) => [c.column, c.kind])).toEqual([
      ['metric_time__day', 'dimension'],
      ['customer__country', 'dimension'],
      ['gross_sales', 'metric'],
      ['orders', 'metric'],
      ['aov', 'metric'],
      ['sales_7d', 'metric'],
    ]);
    expect(kpis.semantics!.columns.find((c) => c.column === 'aov')!.definition).toBe('gross_sales / orders');
  });

  it("delivers each partner's rows on DuckDB with a manifest that records the semantics", async () => {
    const { outcome, store } = await runFeed(p.dir, 'kpis', { slot: '2024-02-02T00:00:00Z', now: '2024-02-02T01:00:00Z', partner: 'acme' });
    expect(outcome.status).toBe('delivered');
    const manifest = await readJson(store, outcome.manifestKey!);
    expect(manifestProblems(manifest)).toEqual([]);
    // The schema holds the block to its shape: a column without its definition is refused.
    const broken = { ...manifest, semantics: { columns: [{ column: 'x', kind: 'measure', name: 'x' }] } };
    expect(manifestProblems(broken)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('semantics.columns[0].definition: required, missing'),
        expect.stringContaining('semantics.columns[0].kind: Invalid option'),
      ]),
    );
    expect(manifest.semantics.columns.find((c: { column: string }) => c.column === 'gross_sales')).toEqual({
      column: 'gross_sales',
      kind: 'metric',
      name: 'gross_sales',
      description: 'Sum of order amounts, every status.',
      definition: 'sum(amount) of orders',
    });
    const { connection, close } = await seededDuckDb();
    try {
      const expected = sortRows(
        await runRows(
          connection,
          `SELECT COALESCE(c.country, '') AS country, SUM(o.amount) AS gross_sales FROM raw_orders o LEFT JOIN raw_customers c USING (customer_id)
           WHERE o.partner_id = 'acme' AND o.ordered_at >= TIMESTAMP '2024-02-01' AND o.ordered_at < TIMESTAMP '2024-02-02' GROUP BY 1`,
        ),
      );
      const csv = (await store.get(
        outcome.manifestKey!.replace('manifest.json', manifest.files.find((f: { format: string }) => f.format === 'csv').path),
      ))!.body.toString('utf8');
      const delivered = csv
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(','))
        .map(([, country, gross]) => ({ country: country || null, gross_sales: Number(gross) }));
      expect(manifest.rowCount).toBe(expected.length);
      expect(sortRows(delivered)).toEqual(
        expected.map((r) => ({ country: r.country === null || r.country === '' ? null : r.country, gross_sales: r.gross_sales })),
      );
    } finally {
      close();
    }
  });

  it('manifests of SQL feeds carry no semantics block', async () => {
    const { outcome, store } = await runFeed(p.dir, 'plain', { slot: '2024-02-02T00:00:00Z', now: '2024-02-02T01:00:00Z' });
    expect(outcome.status).toBe('delivered');
    expect(await readJson(store, outcome.manifestKey!)).not.toHaveProperty('semantics');
  });

  it('dropkit check lists the metrics no feed serves, and --impact the feeds a metric change reaches', async () => {
    const check = await dropkit(['check', '--project', p.dir, '--now', '2024-02-02T00:00:00Z', '--json']);
    expect(check.code).toBe(0);
    const unused: string[] = JSON.parse(check.stdout).semantic.unused;
    expect(unused).toContain('signups');
    expect(unused).not.toContain('orders'); // selected
    expect(unused).not.toContain('gross_sales'); // served through aov as well as directly

    const impact = await dropkit(['check', '--project', p.dir, '--impact', 'orders']);
    expect(impact.code).toBe(0);
    expect(impact.stdout).toContain('1 feed would change if orders changed:\n  kpis');
    const none = await dropkit(['check', '--project', p.dir, '--impact', 'signups']);
    expect(none.stdout).toContain('no feed serves signups');
    const unknown = await dropkit(['check', '--project', p.dir, '--impact', 'revenue']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no such metric');
  });
});

describe('the report', () => {
  it("shows on a metric feed's page each metric's definition and every feed that serves it", async () => {
    const second = KPIS.replace('name: kpis', 'name: kpis_weekly')
      .replace('[gross_sales, orders, aov, sales_7d]', '[aov]')
      .replace('[metric_time__day, customer__country]', '[metric_time__week]');
    const p = await shopProject({ 'feeds/kpis.yaml': KPIS, 'feeds/kpis_weekly.yaml': second });
    try {
      const out = join(p.dir, 'report');
      const r = await dropkit(['report', '--project', p.dir, '--out', out, '--at', '2024-02-02T00:00:00Z']);
      expect(r.code).toBe(0);
      const page = readFileSync(join(out, 'feeds', 'kpis.html'), 'utf8');
      expect(page).toContain('<h2>Metrics</h2>');
      expect(page).toMatch(
        /<code>aov<\/code><br>Average order value, gross sales over orders\.<\/td><td><code>gross_sales \/ orders<\/code><\/td><td><a href="kpis\.html">kpis<\/a>, <a href="kpis_weekly\.html">kpis_weekly<\/a><\/td>/,
      );
      // gross_sales is selected by kpis and reached by kpis_weekly through aov: both change with it.
      expect(page).toMatch(/<code>gross_sales<\/code>.*<a href="kpis\.html">kpis<\/a>, <a href="kpis_weekly\.html">kpis_weekly<\/a>/);
      expect(readFileSync(join(out, 'feeds', 'kpis_weekly.html'), 'utf8')).not.toContain('gross_sales</code><br>');
    } finally {
      p.cleanup();
    }
  });
});

describe('dropkit check refuses what the semantic layer cannot compile', () => {
  it('names file, field, value and fix for each unsupported MetricFlow feature', async () => {
    const p = await shopProject({
      'feeds/plain.yaml': SQL_FEED,
      'feeds/plain.sql': 'SELECT 1 AS x',
      'semantic/more.yml': `semantic_models:
  - name: visits
    model: ref('visits')
    defaults: { agg_time_dimension: visited_at }
    entities:
      - { name: visitor, type: natural, expr: visitor_id }
    dimensions:
      - { name: visited_at, type: time, type_params: { time_granularity: hour } }
    measures:
      - { name: visit_median, agg: median, expr: seconds }
metrics:
  - name: visit_conversion
    label: Visit conversion
    type: conversion
    type_params: { conversion_type_params: { entity: visitor } }
  - name: orders_last_week
    label: Orders last week
    type: derived
    type_params:
      expr: o
      metrics: [{ name: orders, alias: o, offset_window: 1 week }]
`,
    });
    try {
      const problems = problemsOf(p.dir).filter((x) => x.file === join('semantic', 'more.yml'));
      const at = (path: string) => problems.find((x) => x.path === path);
      expect(at('semantic_models.0.entities.0.type')).toMatchObject({ value: 'natural', message: expect.stringContaining('natural entities') });
      expect(at('semantic_models.0.dimensions.0.type_params.time_granularity')).toMatchObject({ value: 'hour', fix: expect.stringContaining('day') });
      expect(at('semantic_models.0.measures.0.agg')).toMatchObject({ value: 'median', fix: expect.stringContaining('count_distinct') });
      expect(at('metrics.0.type')).toMatchObject({ value: 'conversion', message: 'conversion metrics are not supported by dropkit' });
      expect(at('metrics.1.type_params.metrics.0.offset_window')).toMatchObject({ value: '1 week' });
      expect(problems.every((x) => x.fix)).toBe(true);
    } finally {
      p.cleanup();
    }
  });

  it('refuses a selection that cannot compile, naming the feed file and the select field', async () => {
    const bad = KPIS.replace('[metric_time__day, customer__country]', '[metric_time__day, order__reason]').replace('name: kpis', 'name: bad');
    const shared = feed('shared_kpis', `select:\n  metrics: [orders]\n  where: "{{ Dimension('order__partner_id') }} = $partner_id"\n`);
    const both = feed('both', `select:\n  metrics: [orders]\nquery:\n  sql: both.sql\n`);
    const p = await shopProject({ 'feeds/bad.yaml': bad, 'feeds/shared.yaml': shared, 'feeds/both.yaml': both });
    try {
      const problems = problemsOf(p.dir);
      expect(problems).toContainEqual(
        expect.objectContaining({ file: join('feeds', 'bad.yaml'), path: 'select', value: 'order__reason', message: expect.stringContaining('would fan out') }),
      );
      expect(problems).toContainEqual(expect.objectContaining({ file: join('feeds', 'shared.yaml'), path: 'delivery', value: 'shared' }));
      expect(problems).toContainEqual(
        expect.objectContaining({ file: join('feeds', 'both.yaml'), path: 'select', fix: expect.stringContaining('remove query') }),
      );
    } finally {
      p.cleanup();
    }
  });

  it('refuses a selection in a project without a semantic layer', () => {
    const p = tempProject({ 'dropkit.yaml': 'name: bare\n', 'feeds/k.yaml': feed('k', 'select:\n  metrics: [orders]\n') });
    try {
      expect(problemsOf(p.dir)).toContainEqual(expect.objectContaining({ path: 'select', message: expect.stringContaining('no semantic layer') }));
    } finally {
      p.cleanup();
    }
  });
});
