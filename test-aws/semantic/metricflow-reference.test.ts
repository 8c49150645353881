import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { compileMetricQuery } from '../../lib/semantic/compile';
import { duckdbDialect } from '../../lib/adapters/duckdb/duckdb-dialect';
import type { QueryParameter } from '../../lib/core/ports/query-engine';
import {
  normaliseRow,
  Row,
  runRows,
  seededDuckDb,
  SEED_SQL,
  SHOP_SEMANTIC_FILE,
  shopLayer,
  sortRows,
  windowParameters,
} from '../../test/semantic/semantic-fixture';

/**
 * The reference: MetricFlow itself (dbt-metricflow over dbt-duckdb, in .venv-metricflow, made by
 * scripts/metricflow-venv.sh; BUSL, so a test oracle only) runs a dozen queries over the example
 * shop's semantic YAML and the seeded dataset, and dropkit's compiled SQL must return the same rows.
 *
 * MetricFlow's --end-time is inclusive (a BETWEEN on metric_time at the query's grain); a dropkit
 * slot's interval is half-open, so each case gives the last day for MetricFlow and the next day
 * for dropkit.
 */

const ROOT = resolve(__dirname, '..', '..');
const VENV = join(ROOT, '.venv-metricflow');

interface Case {
  readonly name: string;
  readonly metrics: string[];
  readonly groupBy: string[];
  readonly where?: string;
  /** First and last day (inclusive) of metric_time. */
  readonly days: [string, string];
  readonly partner?: string;
}

const PAID = "{{ Dimension('order__status') }} = 'paid'";
const ALL_CASES: Case[] = [
  {
    name: 'simple and ratio metrics by day and a joined dimension',
    metrics: ['gross_sales', 'orders', 'aov'],
    groupBy: ['metric_time__day', 'customer__country'],
    days: ['2024-02-01', '2024-02-02'],
  },
  {
    name: 'a metric filter, sum_boolean and a ratio with a filtered input, by week',
    metrics: ['paid_sales', 'paid_orders', 'paid_share'],
    groupBy: ['metric_time__week'],
    days: ['2024-01-01', '2024-02-25'],
  },
  {
    name: 'average, max and count_distinct by month and a local dimension',
    metrics: ['avg_order_amount', 'largest_order', 'ordering_customers'],
    groupBy: ['metric_time__month', 'order__currency'],
    days: ['2024-01-01', '2024-02-29'],
  },
  {
    name: 'a derived metric across two semantic models',
    metrics: ['net_orders', 'returns'],
    groupBy: ['metric_time__day'],
    days: ['2024-02-01', '2024-02-14'],
  },
  {
    name: 'a derived metric with an aliased, filtered input and no time group',
    metrics: ['cancelled_sales_share'],
    groupBy: ['customer__country'],
    days: ['2024-01-01', '2024-02-29'],
  },
  {
    name: 'returns by a dimension of the joined orders model',
    metrics: ['returns'],
    groupBy: ['metric_time__day', 'order__status'],
    days: ['2024-02-10', '2024-02-12'],
  },
  { name: 'a cumulative metric over a trailing window', metrics: ['sales_7d'], groupBy: ['metric_time__day'], days: ['2024-02-01', '2024-02-10'] },
  {
    name: 'a cumulative metric month to date, crossing a month, with another group-by',
    metrics: ['sales_mtd'],
    groupBy: ['metric_time__day', 'order__partner_id'],
    days: ['2024-01-25', '2024-02-05'],
  },
  {
    name: 'an all-time cumulative count_distinct',
    metrics: ['customers_to_date', 'ordering_customers'],
    groupBy: ['metric_time__day'],
    days: ['2024-02-20', '2024-02-29'],
  },
  {
    name: 'a query filter on a joined dimension',
    metrics: ['gross_sales', 'orders'],
    groupBy: ['metric_time__month', 'order__status'],
    where: "{{ Dimension('customer__country') }} = 'NL'",
    days: ['2024-01-01', '2024-02-29'],
  },
  { name: 'count by quarter on another model', metrics: ['signups'], groupBy: ['metric_time__quarter', 'customer__vip'], days: ['2024-01-01', '2024-03-31'] },
  {
    name: 'a time dimension at its own grain beside metric_time by year',
    metrics: ['orders', 'gross_sales'],
    groupBy: ['metric_time__year', 'order__ordered_at__month'],
    days: ['2024-01-01', '2024-12-31'],
  },
  { name: 'no group-by: one row', metrics: ['orders', 'aov', 'net_orders'], groupBy: [], where: PAID, days: ['2024-02-01', '2024-02-29'] },
  {
    name: 'an entity as a group-by and a time-dimension filter',
    metrics: ['orders', 'gross_sales'],
    groupBy: ['customer'],
    where: "{{ TimeDimension('order__ordered_at', 'day') }} >= '2024-02-03'",
    days: ['2024-02-01', '2024-02-04'],
  },
  {
    name: "a per-partner feed's selection with $partner_id",
    metrics: ['gross_sales', 'orders', 'aov'],
    groupBy: ['metric_time__day'],
    where: "{{ Dimension('order__partner_id') }} = $partner_id",
    days: ['2024-02-01', '2024-02-07'],
    partner: 'globex',
  },
];
const CASES = process.env.MF_CASE ? ALL_CASES.filter((c) => c.name.includes(process.env.MF_CASE!)) : ALL_CASES;

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString();

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('the semantic compiler against MetricFlow', () => {
  let project: string;
  const mfEnv = () => ({ DBT_PROFILES_DIR: project, DBT_SEND_ANONYMOUS_USAGE_STATS: 'false', DO_NOT_TRACK: '1' });

  beforeAll(() => {
    run('bash', [join(ROOT, 'scripts', 'metricflow-venv.sh'), VENV], ROOT);
    project = mkdtempSync(join(tmpdir(), 'dropkit-metricflow-'));
    const db = join(project, 'shop.duckdb');
    mkdirSync(join(project, 'models'));
    writeFileSync(join(project, 'dbt_project.yml'), 'name: shop\nversion: "1.0.0"\nconfig-version: 2\nprofile: shop\nmodel-paths: ["models"]\n');
    writeFileSync(
      join(project, 'profiles.yml'),
      `shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ${JSON.stringify(db)}\n      threads: 1\n`,
    );
    for (const t of ['orders', 'customers', 'returns']) writeFileSync(join(project, 'models', `${t}.sql`), `select * from raw_${t}\n`);
    writeFileSync(
      join(project, 'models', 'metricflow_time_spine.sql'),
      "select cast(range as date) as date_day from range(date '2020-01-01', date '2030-01-01', interval 1 day)\n",
    );
    writeFileSync(
      join(project, 'models', 'time_spine.yml'),
      'version: 2\nmodels:\n  - name: metricflow_time_spine\n    time_spine:\n      standard_granularity_column: date_day\n    columns:\n      - name: date_day\n        granularity: day\n',
    );
    // The very YAML the example ships, unchanged.
    copyFileSync(SHOP_SEMANTIC_FILE, join(project, 'models', 'semantic.yml'));
    writeFileSync(join(project, 'seed.sql'), SEED_SQL);
    run(join(VENV, 'bin', 'python'), ['-c', `import duckdb; duckdb.connect(${JSON.stringify(db)}).execute(open('seed.sql').read())`], project);
    run(join(VENV, 'bin', 'dbt'), ['build', '--quiet'], project, mfEnv());
  }, 25 * 60_000);

  afterAll(() => {
    if (project && existsSync(project)) rmSync(project, { recursive: true, force: true });
  });

  it.each(CASES.map((c) => [c.name, c] as const))('returns the same rows as MetricFlow for %s', async (_, c) => {
    const where = c.where && c.partner ? c.where.replace('$partner_id', `'${c.partner}'`) : c.where;
    const out = join(project, `${CASES.indexOf(c)}.csv`);
    const args = ['query', '--metrics', c.metrics.join(','), '--start-time', c.days[0], '--end-time', c.days[1], '--csv', out];
    if (c.groupBy.length) args.push('--group-by', c.groupBy.join(','));
    if (where) args.push('--where', where);
    run(join(VENV, 'bin', 'mf'), args, project, mfEnv());
    const expected = sortRows((parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[]).map((r) => booleansLower(normaliseRow(r))));

    const { sql } = compileMetricQuery(shopLayer(), { metrics: c.metrics, groupBy: c.groupBy, where: c.where }, duckdbDialect);
    const params: QueryParameter[] = [
      ...windowParameters(`${c.days[0]}T00:00:00Z`, nextDay(c.days[1])),
      ...(c.partner ? [{ name: 'partner_id', type: 'VARCHAR' as const, value: c.partner }] : []),
    ];
    const { connection, close } = await seededDuckDb();
    try {
      const actual = sortRows((await runRows(connection, sql, params)).map(booleansLower));
      expect(expected.length).toBeGreaterThan(0);
      expect(actual).toEqual(expected);
    } finally {
      close();
    }
  });
});

/** MetricFlow's CSV writes Python's True/False. */
function booleansLower(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = v === 'True' || v === 'False' ? v.toLowerCase() : v;
  return out;
}
