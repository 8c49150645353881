import { Parser } from 'node-sql-parser';
import type { DuckDBConnection } from '@duckdb/node-api';
import { scanParameters, toPositional } from '../../lib/core/sql-parameters';
import type { QueryParameter } from '../../lib/core/ports/query-engine';
import { compileMetricQuery, MetricQuery, SemanticQueryError } from '../../lib/semantic/compile';
import { duckdbDialect } from '../../lib/adapters/duckdb/duckdb-dialect';
import { athenaDialect } from '../../lib/adapters/athena/athena-dialect';
import { runRows, seededDuckDb, shopLayer, sortRows, windowParameters } from './semantic-fixture';

/*
 * The compiler over DuckDB on the seeded shop data: each case's expected rows come from plain SQL
 * written by hand over the raw tables (correlated subqueries for the cumulative metrics, not the
 * compiler's time-spine join), so the two are independent. The same selection compiled for Athena
 * must parse with the Trino grammar.
 */

interface Case {
  readonly name: string;
  readonly query: MetricQuery;
  /** [start, end) of the slot's data interval. */
  readonly window: [string, string];
  readonly partner?: string;
  readonly expected: string;
}

const day = (expr: string) => `CAST(date_trunc('day', ${expr}) AS TIMESTAMP)`;
const CASES: Case[] = [
  {
    name: 'a simple sum by day',
    query: { metrics: ['gross_sales'], groupBy: ['metric_time__day'] },
    window: ['2024-02-01', '2024-02-04'],
    expected: `SELECT ${day('ordered_at')} AS metric_time__day, SUM(amount) AS gross_sales FROM raw_orders
      WHERE ordered_at >= TIMESTAMP '2024-02-01' AND ordered_at < TIMESTAMP '2024-02-04' GROUP BY 1`,
  },
  {
    name: 'count, count_distinct, average, max and sum_boolean by month and a local dimension',
    query: {
      metrics: ['orders', 'ordering_customers', 'avg_order_amount', 'largest_order', 'paid_orders'],
      groupBy: ['metric_time__month', 'order__currency'],
    },
    window: ['2024-01-01', '2024-03-01'],
    expected: `SELECT CAST(date_trunc('month', ordered_at) AS TIMESTAMP) AS metric_time__month, currency AS order__currency, COUNT(order_id) AS orders,
        COUNT(DISTINCT customer_id) AS ordering_customers, AVG(amount) AS avg_order_amount, MAX(amount) AS largest_order,
        COUNT(*) FILTER (WHERE status = 'paid') AS paid_orders
      FROM raw_orders WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2024-03-01' GROUP BY 1, 2`,
  },
  {
    name: 'a ratio by a dimension of a joined model (orders without a customer row group under NULL)',
    query: { metrics: ['aov'], groupBy: ['customer__country'] },
    window: ['2024-02-01', '2024-02-08'],
    expected: `SELECT c.country AS customer__country, SUM(o.amount) / COUNT(*) AS aov
      FROM raw_orders o LEFT JOIN raw_customers c USING (customer_id)
      WHERE o.ordered_at >= TIMESTAMP '2024-02-01' AND o.ordered_at < TIMESTAMP '2024-02-08' GROUP BY 1`,
  },
  {
    name: "a metric's own filter and a query filter on a joined dimension, by week",
    query: { metrics: ['paid_sales', 'gross_sales'], groupBy: ['metric_time__week'], where: "{{ Dimension('customer__country') }} = 'NL'" },
    window: ['2024-01-01', '2024-02-26'],
    expected: `SELECT CAST(date_trunc('week', o.ordered_at) AS TIMESTAMP) AS metric_time__week,
        SUM(o.amount) FILTER (WHERE o.status = 'paid') AS paid_sales, SUM(o.amount) AS gross_sales
      FROM raw_orders o JOIN raw_customers c USING (customer_id)
      WHERE c.country = 'NL' AND o.ordered_at >= TIMESTAMP '2024-01-01' AND o.ordered_at < TIMESTAMP '2024-02-26' GROUP BY 1`,
  },
  {
    name: 'a ratio whose numerator has its own filter',
    query: { metrics: ['paid_share'], groupBy: ['order__partner_id'] },
    window: ['2024-02-01', '2024-03-01'],
    expected: `SELECT partner_id AS order__partner_id, COUNT(*) FILTER (WHERE status = 'paid') / COUNT(*) AS paid_share FROM raw_orders
      WHERE ordered_at >= TIMESTAMP '2024-02-01' AND ordered_at < TIMESTAMP '2024-03-01' GROUP BY 1`,
  },
  {
    name: 'a derived metric over two semantic models (a day with only one side gives NULL)',
    query: { metrics: ['net_orders', 'orders', 'returns'], groupBy: ['metric_time__day'] },
    window: ['2024-02-01', '2024-02-15'],
    expected: `WITH o AS (SELECT ${day('ordered_at')} AS d, COUNT(*) AS n FROM raw_orders WHERE ordered_at >= TIMESTAMP '2024-02-01' AND ordered_at < TIMESTAMP '2024-02-15' GROUP BY 1),
        r AS (SELECT ${day('returned_at')} AS d, COUNT(*) AS n FROM raw_returns WHERE returned_at >= TIMESTAMP '2024-02-01' AND returned_at < TIMESTAMP '2024-02-15' GROUP BY 1)
      SELECT COALESCE(o.d, r.d) AS metric_time__day, o.n - r.n AS net_orders, o.n AS orders, r.n AS returns FROM o FULL OUTER JOIN r ON o.d = r.d`,
  },
  {
    name: 'a derived metric with an aliased, filtered input',
    query: { metrics: ['cancelled_sales_share'], groupBy: [] },
    window: ['2024-01-01', '2024-03-01'],
    expected: `SELECT 100 * SUM(amount) FILTER (WHERE status = 'cancelled') / SUM(amount) AS cancelled_sales_share FROM raw_orders
      WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2024-03-01'`,
  },
  {
    name: 'returns by a dimension of the orders they belong to',
    query: { metrics: ['returns'], groupBy: ['order__status'] },
    window: ['2024-01-15', '2024-03-01'],
    expected: `SELECT o.status AS order__status, COUNT(*) AS returns FROM raw_returns r LEFT JOIN raw_orders o USING (order_id)
      WHERE r.returned_at >= TIMESTAMP '2024-01-15' AND r.returned_at < TIMESTAMP '2024-03-01' GROUP BY 1`,
  },
  {
    name: 'a cumulative metric over a trailing 7-day window',
    query: { metrics: ['sales_7d'], groupBy: ['metric_time__day'] },
    window: ['2024-02-01', '2024-02-11'],
    expected: `SELECT d.ds AS metric_time__day,
        (SELECT SUM(amount) FROM raw_orders WHERE ordered_at >= d.ds - INTERVAL 6 DAY AND ordered_at < d.ds + INTERVAL 1 DAY) AS sales_7d
      FROM (SELECT range AS ds FROM range(TIMESTAMP '2024-02-01', TIMESTAMP '2024-02-11', INTERVAL 1 DAY)) d`,
  },
  {
    name: 'a cumulative metric month to date, across a month end, per partner dimension',
    query: { metrics: ['sales_mtd'], groupBy: ['metric_time__day', 'order__partner_id'] },
    window: ['2024-01-28', '2024-02-04'],
    expected: `SELECT d.ds AS metric_time__day, p.partner_id AS order__partner_id,
        (SELECT SUM(amount) FROM raw_orders WHERE partner_id = p.partner_id AND ordered_at >= date_trunc('month', d.ds) AND ordered_at < d.ds + INTERVAL 1 DAY) AS sales_mtd
      FROM (SELECT range AS ds FROM range(TIMESTAMP '2024-01-28', TIMESTAMP '2024-02-04', INTERVAL 1 DAY)) d, (SELECT DISTINCT partner_id FROM raw_orders) p`,
  },
  {
    name: 'an all-time cumulative count_distinct',
    query: { metrics: ['customers_to_date'], groupBy: ['metric_time__day'] },
    window: ['2024-01-01', '2024-01-06'],
    expected: `SELECT d.ds AS metric_time__day, (SELECT COUNT(DISTINCT customer_id) FROM raw_orders WHERE ordered_at < d.ds + INTERVAL 1 DAY) AS customers_to_date
      FROM (SELECT range AS ds FROM range(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-06', INTERVAL 1 DAY)) d`,
  },
  {
    name: 'a count by quarter on another model, by a boolean dimension',
    query: { metrics: ['signups'], groupBy: ['metric_time__quarter', 'customer__vip'] },
    window: ['2024-01-01', '2024-04-01'],
    expected: `SELECT CAST(date_trunc('quarter', signup_date) AS TIMESTAMP) AS metric_time__quarter, vip AS customer__vip, COUNT(*) AS signups FROM raw_customers
      WHERE signup_date >= TIMESTAMP '2024-01-01' AND signup_date < TIMESTAMP '2024-04-01' GROUP BY 1, 2`,
  },
  {
    name: 'a per-partner selection with $partner_id bound by the engine',
    query: { metrics: ['orders', 'gross_sales'], groupBy: ['metric_time__day'], where: "{{ Dimension('order__partner_id') }} = $partner_id" },
    window: ['2024-02-01', '2024-02-03'],
    partner: 'initech',
    expected: `SELECT ${day('ordered_at')} AS metric_time__day, COUNT(*) AS orders, SUM(amount) AS gross_sales FROM raw_orders
      WHERE partner_id = 'initech' AND ordered_at >= TIMESTAMP '2024-02-01' AND ordered_at < TIMESTAMP '2024-02-03' GROUP BY 1`,
  },
  {
    name: 'a time dimension at its own grain beside metric_time by year',
    query: { metrics: ['orders'], groupBy: ['metric_time__year', 'order__ordered_at__month'] },
    window: ['2024-01-01', '2025-01-01'],
    expected: `SELECT CAST(date_trunc('year', ordered_at) AS TIMESTAMP) AS metric_time__year, CAST(date_trunc('month', ordered_at) AS TIMESTAMP) AS order__ordered_at__month, COUNT(*) AS orders
      FROM raw_orders WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2025-01-01' GROUP BY 1, 2`,
  },
];

describe('the semantic compiler on DuckDB', () => {
  let connection: DuckDBConnection;
  let close: () => void;
  beforeAll(async () => {
    ({ connection, close } = await seededDuckDb());
  });
  afterAll(() => close());

  it.each(CASES.map((c) => [c.name, c] as const))('computes %s as the hand-written SQL does', async (_, c) => {
    const { sql } = compileMetricQuery(shopLayer(), c.query, duckdbDialect);
    const params: QueryParameter[] = [
      ...windowParameters(`${c.window[0]}T00:00:00Z`, `${c.window[1]}T00:00:00Z`),
      ...(c.partner ? [{ name: 'partner_id', type: 'VARCHAR' as const, value: c.partner }] : []),
    ];
    const actual = sortRows(await runRows(connection, sql, params));
    const expected = sortRows(await runRows(connection, c.expected));
    expect(expected.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });

  it('binds the slot interval: a window with no data gives no rows', async () => {
    const { sql } = compileMetricQuery(shopLayer(), { metrics: ['gross_sales', 'sales_7d'], groupBy: ['metric_time__day'] }, duckdbDialect);
    expect(await runRows(connection, sql, windowParameters('2030-01-01T00:00:00Z', '2030-01-03T00:00:00Z'))).toEqual([]);
  });

  const parser = new Parser();
  // Trino has IS NOT DISTINCT FROM; node-sql-parser's Trino grammar does not, so it reads as = here.
  const forGrammar = (sql: string) => sql.replace(/ IS NOT DISTINCT FROM /g, ' = ');
  it.each(CASES.map((c) => [c.name, c] as const))('compiles %s for Athena as Trino SQL with parameters only in WHERE', (_, c) => {
    const { sql } = compileMetricQuery(shopLayer(), c.query, athenaDialect);
    const params: QueryParameter[] = [...windowParameters('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'), { name: 'partner_id', type: 'VARCHAR', value: 'x' }];
    const positional = forGrammar(toPositional(sql, params).sql).replace(/\?/g, "TIMESTAMP '2024-01-01 00:00:00'");
    expect(() => parser.astify(positional, { database: 'trino' })).not.toThrow();
    const uses = scanParameters(sql);
    expect(uses.map((u) => u.name)).toEqual(expect.arrayContaining(['window_start', 'window_end']));
    expect(uses.filter((u) => !u.inWhere)).toEqual([]);
    expect(sql).not.toMatch(/INTERVAL \d+ DAY|range\(/); // DuckDB's spellings stay out of Athena's SQL
  });
});

describe('selections the compiler refuses', () => {
  const refuse = (query: MetricQuery) => {
    try {
      compileMetricQuery(shopLayer(), query, duckdbDialect);
    } catch (e) {
      if (e instanceof SemanticQueryError) return e;
      throw e;
    }
    throw new Error('compiled');
  };

  it('refuses a fan-out join and says why', () => {
    const e = refuse({ metrics: ['gross_sales'], groupBy: ['order__reason'] });
    expect(e.message).toContain('would fan out');
    expect(e.message).toContain('returns holds many rows per order');
    expect(e.value).toBe('order__reason');
  });

  it('refuses a dimension two joins away', () => {
    const e = refuse({ metrics: ['returns'], groupBy: ['order__customer__country'] });
    expect(e.message).toContain('dropkit joins one hop');
  });

  it('refuses a dimension its measure has no entity to reach', () => {
    const e = refuse({ metrics: ['returns'], groupBy: ['customer__country'] });
    expect(e.message).toContain('has no entity customer');
    expect(e.fix).toContain('add entity customer to returns');
  });

  it('refuses an unknown metric and lists the known ones', () => {
    const e = refuse({ metrics: ['revenue'], groupBy: [] });
    expect(e.field).toBe('select.metrics.0');
    expect(e.fix).toContain('gross_sales');
  });

  it('refuses a cumulative metric not grouped by metric_time__day', () => {
    expect(refuse({ metrics: ['sales_7d'], groupBy: ['metric_time__month'] }).message).toContain('needs metric_time__day');
  });

  it('refuses a grain finer than the time dimension holds, and an unknown filter template', () => {
    expect(refuse({ metrics: ['orders'], groupBy: ['metric_time__hour'] }).message).toContain('not a metric_time grain');
    expect(refuse({ metrics: ['orders'], groupBy: [], where: "{{ Metric('orders', ['customer']) }} > 3" }).message).toContain(
      'cannot read the filter template',
    );
  });
});
