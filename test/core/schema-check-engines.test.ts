import type { CheckTarget } from '../../lib/core/checks/check-types';
import { duckdbDialect } from '../../lib/adapters/duckdb/duckdb-dialect';
import { athenaDialect } from '../../lib/adapters/athena/athena-dialect';
import { checkSchema } from '../../lib/core/checks/registry';
import { schemaCheck } from '../../lib/core/checks/schema';

const athenaStagingFix = (type: string) => athenaDialect.stagingFix?.(type);
import type { ColumnSchema } from '../../lib/core/ports/query-engine';

const SLOT = { id: '20240115T060000Z', scheduledFor: '2024-01-15T06:00:00.000Z', start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' };

/** The example's daily_orders contract. */
const CONTRACT = checkSchema.parse({
  type: 'schema',
  columns: [
    { name: 'order_id', type: 'BIGINT' },
    { name: 'Ordered_At', type: 'TIMESTAMP WITH TIME ZONE' },
    { name: 'amount', type: 'DECIMAL(12,2)' },
    { name: 'note', type: 'VARCHAR(200)' },
  ],
});

function judge(dialect: CheckTarget['dialect'], columns: ColumnSchema[]) {
  const target = { table: 't', columns, dialect, slot: SLOT, previous: null } as unknown as CheckTarget;
  const [compiled] = schemaCheck.compile(CONTRACT as never, target);
  if (compiled.kind !== 'static') throw new Error('the schema check is judged without a query');
  return compiled.judge();
}

const col = (name: string, type: string): ColumnSchema => ({ name, type, nullable: true });

describe('the schema check on each engine', () => {
  it('passes on Athena, whose staged Hive table keeps no zone, no varchar length and lower-case names', () => {
    const staged = [col('order_id', 'BIGINT'), col('ordered_at', 'TIMESTAMP'), col('amount', 'DECIMAL(12,2)'), col('note', 'VARCHAR')];
    expect(judge(athenaDialect, staged)).toMatchObject({ passed: true, observed: { missing: [], changed: [] } });
  });

  it('still fails on Athena for a type of another family', () => {
    const staged = [col('order_id', 'VARCHAR'), col('ordered_at', 'DATE'), col('amount', 'DECIMAL(12,2)'), col('note', 'VARCHAR')];
    expect(judge(athenaDialect, staged)).toMatchObject({
      passed: false,
      observed: {
        changed: [
          { name: 'order_id', expected: 'BIGINT', actual: 'VARCHAR' },
          { name: 'Ordered_At', expected: 'TIMESTAMP WITH TIME ZONE', actual: 'DATE' },
        ],
      },
    });
  });

  it('compares exactly on DuckDB, which keeps the zone, the length and the case', () => {
    const exact = [col('order_id', 'BIGINT'), col('Ordered_At', 'TIMESTAMP WITH TIME ZONE'), col('amount', 'DECIMAL(12,2)'), col('note', 'VARCHAR(200)')];
    expect(judge(duckdbDialect, exact).passed).toBe(true);
    const zoneless = [col('order_id', 'BIGINT'), col('ordered_at', 'TIMESTAMP'), col('amount', 'DECIMAL(12,2)'), col('note', 'VARCHAR(200)')];
    expect(judge(duckdbDialect, zoneless)).toMatchObject({ passed: false, observed: { missing: ['Ordered_At'] } });
  });

  it('names the declared types Athena cannot stage, with the fix, and passes the others', () => {
    expect(athenaStagingFix('time')).toMatch(/CAST/);
    expect(athenaStagingFix('JSON')).toMatch(/VARCHAR/);
    expect(athenaStagingFix('interval day to second')).toMatch(/BIGINT/);
    for (const ok of ['TIMESTAMP WITH TIME ZONE', 'timestamptz', 'BIGINT', 'DECIMAL(12,2)', 'varchar', 'DATE']) expect(athenaStagingFix(ok)).toBeUndefined();
  });
});
