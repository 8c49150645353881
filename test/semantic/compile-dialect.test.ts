import { duckdbDialect } from '../../lib/adapters/duckdb/duckdb-dialect';
import { compileMetricQuery } from '../../lib/semantic/compile';
import type { SemanticDialect } from '../../lib/semantic/dialect';
import { shopLayer } from './semantic-fixture';

/** An engine that quotes names otherwise (backticks, as BigQuery and MySQL do): every identifier the compiler writes must come through it. */
const backticks: SemanticDialect = { ...duckdbDialect, name: 'backticks', quoteIdent: (name) => `\`${name}\`` };

describe('the semantic compiler', () => {
  it("quotes every identifier with the dialect's quoting: group-by keys, joined dimensions, entities and filters", () => {
    const { sql } = compileMetricQuery(
      shopLayer(),
      {
        metrics: ['gross_sales', 'aov'],
        groupBy: ['metric_time__day', 'customer__country', 'order__currency', 'customer'],
        where: [
          "{{ Dimension('customer__country') }} = 'NL'",
          "{{ TimeDimension('metric_time', 'day') }} >= DATE '2024-01-01'",
          "{{ Entity('order') }} IS NOT NULL",
        ],
      },
      backticks,
    );
    // Each projected column (e__/d__/m__) and every alias or table name is quoted the dialect's way.
    expect(sql).toMatch(/m0\.`e__customer`/);
    expect(sql).toMatch(/j1\.`d__country`/);
    expect(sql).toMatch(/m0\.`e__order` IS NOT NULL/);
    expect(sql).toMatch(/m0\.`d__ordered_at`/);
    expect(sql).not.toMatch(/"[a-z_]+"/);
  });
});
