import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { openTestEngine, stage } from '../helpers/engine';
import type { CheckTarget, CompiledCheck, PreviousDrop } from '../../lib/core/checks/check-types';
import { duckdbDialect } from '../../lib/adapters/duckdb/duckdb-dialect';
import { athenaDialect } from '../../lib/adapters/athena/athena-dialect';
import { readTimestamp } from '../../lib/core/checks/dialect';
import { checkDefinition, checkSchema, CheckConfig } from '../../lib/core/checks/registry';
import { normaliseType } from '../../lib/core/checks/schema';
import { validateStaged } from '../../lib/core/steps/validate';
import type { StagedTable } from '../../lib/core/ports/query-engine';

const SLOT = {
  id: '20240115T060000Z',
  scheduledFor: '2024-01-15T06:00:00.000Z',
  dataInterval: { start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' },
  timezone: 'UTC',
  cron: '0 6 * * *',
};
const CONTEXT = { slot: SLOT, previous: null };
const PREVIOUS: PreviousDrop = { runId: 'run-prev', slot: '20240114T060000Z', rowCount: 8 };

/*
 * Ten rows. status: 2 outside {open, closed} (lost, pending), one NULL. email: 2 malformed (bad, f@x),
 * one NULL. amount: -5 and 150 outside [0, 100]; 0 and 100 sit on the bounds. updated_at: newest
 * 2024-01-15 05:00 (one hour before the interval ends), oldest 2024-01-13, one NULL. code: lengths
 * 1 (X) and 5 (AB-44, ab-10) outside [3, 4]; X and ab-10 do not match ^AB-[0-9]+$; one NULL.
 */
const DATA = `SELECT id::INTEGER AS id, status, email, amount::DOUBLE AS amount, updated_at::TIMESTAMP AS updated_at, code FROM (VALUES
  (1, 'open', 'a@x.com', 10, '2024-01-15 04:00:00', 'AB-1'),
  (2, 'closed', 'b@x.com', 20, '2024-01-15 05:00:00', 'AB-2'),
  (3, 'open', 'bad', -5, '2024-01-14 07:00:00', 'X'),
  (4, 'lost', NULL, 150, NULL, 'AB-44'),
  (5, NULL, 'c@x.com', 99.5, '2024-01-13 00:00:00', NULL),
  (6, 'open', 'd@x.com', 0, '2024-01-14 12:00:00', 'AB-6'),
  (7, 'closed', 'e@x.com', 100, '2024-01-14 13:00:00', 'AB-7'),
  (8, 'open', 'f@x', 50, '2024-01-14 14:00:00', 'AB-8'),
  (9, 'pending', 'g@x.com', 75, '2024-01-14 15:00:00', 'AB-9'),
  (10, 'open', 'h@x.com', 30, '2024-01-14 16:00:00', 'ab-10')
) t(id, status, email, amount, updated_at, code)`;

const COLUMNS = [
  { name: 'id', type: 'INTEGER', nullable: true },
  { name: 'status', type: 'VARCHAR', nullable: true },
  { name: 'email', type: 'VARCHAR', nullable: true },
  { name: 'amount', type: 'DOUBLE', nullable: true },
  { name: 'updated_at', type: 'TIMESTAMP', nullable: true },
  { name: 'code', type: 'VARCHAR', nullable: true },
];

const parse = (c: unknown) => checkSchema.parse(c) as CheckConfig;

/** Compiles one check without running it, for either dialect. */
function compile(config: unknown, dialect = duckdbDialect): CompiledCheck {
  const parsed = parse(config);
  const target: CheckTarget = { table: '"stg"', columns: COLUMNS, dialect, slot: SLOT, previous: PREVIOUS };
  return checkDefinition(parsed.type)!.compile(checkDefinition(parsed.type)!.schema.parse(parsed), target)[0];
}

/** Everything a compiled check would send to the engine, as one string. */
function sqlOf(c: CompiledCheck): string {
  if (c.kind === 'aggregate') return Object.values(c.expressions).join('\n');
  if (c.kind === 'query') return c.sql;
  throw new Error(`${c.name} has no SQL (${c.kind})`);
}

let engine: DuckDbEngine;

let closeEngine: () => Promise<void>;
let staged: StagedTable;

beforeAll(async () => {
  ({ engine, cleanup: closeEngine } = await openTestEngine());
  staged = await stage(engine, { runId: 'catalogue', sql: DATA, parameters: [] });
});
afterAll(async () => closeEngine());
afterEach(() => jest.restoreAllMocks());

async function run(configs: unknown[], previous: PreviousDrop | null = null) {
  return validateStaged(configs.map(parse), staged, engine, { ...CONTEXT, previous });
}

async function one(config: unknown, previous: PreviousDrop | null = null) {
  const report = await run([config], previous);
  return report.checks[0];
}

describe('the staged test data', () => {
  it('has the columns the catalogue tests assume', () => {
    expect(staged.columns).toEqual(COLUMNS);
    expect(staged.rowCount).toBe(10);
  });
});

describe('accepted_values', () => {
  it('fails with the count of rows outside the list, ignoring NULLs and naming an offending value', async () => {
    const c = await one({ type: 'accepted_values', column: 'status', values: ['open', 'closed'] });
    expect(c).toMatchObject({ name: 'accepted_values(status)', outcome: 'fail', observed: 2, threshold: { values: ['open', 'closed'], maxFailing: 0 } });
    expect(c.message).toBe(`2 of 10 rows have "status" outside the accepted values (NULLs ignored), e.g. 'lost'`);
  });

  it('passes when every non-NULL value is accepted', async () => {
    const c = await one({ type: 'accepted_values', column: 'status', values: ['open', 'closed', 'lost', 'pending'] });
    expect(c).toMatchObject({ outcome: 'pass', observed: 0 });
  });

  it('accepts failures up to a fraction of the rows', async () => {
    const report = await run([
      { type: 'accepted_values', column: 'status', values: ['open', 'closed'], maxFailingFraction: 0.2 },
      { type: 'accepted_values', column: 'status', values: ['open', 'closed'], maxFailingFraction: 0.1 },
    ]);
    expect(report.checks.map((c) => [c.outcome, c.threshold])).toEqual([
      ['pass', { values: ['open', 'closed'], maxFailingFraction: 0.2 }],
      ['fail', { values: ['open', 'closed'], maxFailingFraction: 0.1 }],
    ]);
  });

  it('compares numbers with a numeric column', async () => {
    const c = await one({ type: 'accepted_values', column: 'id', values: [1, 2, 3], maxFailing: 7 });
    expect(c).toMatchObject({ outcome: 'pass', observed: 7 });
  });
});

describe('range', () => {
  it('fails with the rows outside [min, max] and records the actual min and max', async () => {
    const c = await one({ type: 'range', column: 'amount', min: 0, max: 100 });
    expect(c).toMatchObject({
      name: 'range(amount)',
      outcome: 'fail',
      observed: { outside: 2, min: -5, max: 150 },
      threshold: { min: 0, max: 100, exclusive: false, maxFailing: 0 },
    });
  });

  it('counts values on the bounds as outside when exclusive', async () => {
    const c = await one({ type: 'range', column: 'amount', min: 0, max: 100, exclusive: true, maxFailing: 4 });
    expect(c).toMatchObject({ outcome: 'pass', observed: { outside: 4 }, threshold: { exclusive: true, maxFailing: 4 } });
  });

  it('takes ISO dates as bounds of a timestamp column and records the span as UTC instants', async () => {
    const c = await one({ type: 'range', column: 'updated_at', min: '2024-01-14', max: '2024-01-15T05:00:00Z' });
    expect(c).toMatchObject({
      outcome: 'fail',
      observed: { outside: 1, min: '2024-01-13T00:00:00.000Z', max: '2024-01-15T05:00:00.000Z' },
      threshold: { min: '2024-01-14T00:00:00.000Z', max: '2024-01-15T05:00:00.000Z' },
    });
  });

  it('passes with only a max', async () => {
    expect(await one({ type: 'range', column: 'amount', max: 150 })).toMatchObject({ outcome: 'pass', observed: { outside: 0 } });
  });

  it('records numeric bounds on a timestamp column as an error rather than a failure', async () => {
    const c = await one({ type: 'range', column: 'updated_at', min: 0 });
    expect(c.outcome).toBe('error');
    expect(c.message).toMatch(/"updated_at" is TIMESTAMP, so min and max must be ISO-8601 dates/);
  });

  it('rejects a range without bounds, an unparseable date and min above max when the feed is read', () => {
    expect(checkSchema.safeParse({ type: 'range', column: 'amount' }).success).toBe(false);
    expect(checkSchema.safeParse({ type: 'range', column: 'updated_at', min: 'yesterday' }).success).toBe(false);
    expect(checkSchema.safeParse({ type: 'range', column: 'amount', min: 5, max: 1 }).success).toBe(false);
  });
});

describe('regex', () => {
  it('fails with the count of non-NULL values that do not match', async () => {
    const c = await one({ type: 'regex', column: 'email', pattern: '^[^@]+@[^@]+\\.[a-z]+$' });
    expect(c).toMatchObject({ name: 'regex(email)', outcome: 'fail', observed: 2, threshold: { pattern: '^[^@]+@[^@]+\\.[a-z]+$', maxFailing: 0 } });
    expect(c.message).toMatch(/NULLs ignored/);
  });

  it('accepts failures up to a fraction of the rows', async () => {
    const report = await run([
      { type: 'regex', column: 'code', pattern: '^AB-[0-9]+$', maxFailingFraction: 0.2 },
      { type: 'regex', column: 'code', pattern: '^AB-[0-9]+$', maxFailingFraction: 0.19 },
    ]);
    expect(report.checks.map((c) => [c.outcome, c.observed])).toEqual([
      ['pass', 2],
      ['fail', 2],
    ]);
  });

  it('rejects a pattern that does not compile when the feed is read', () => {
    const result = checkSchema.safeParse({ type: 'regex', column: 'code', pattern: '([a-z' });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(/not a valid regular expression/);
  });
});

describe('string_length', () => {
  it('fails with the count of values shorter than min or longer than max', async () => {
    const c = await one({ type: 'string_length', column: 'code', min: 3, max: 4 });
    expect(c).toMatchObject({ name: 'string_length(code)', outcome: 'fail', observed: 3, threshold: { min: 3, max: 4, maxFailing: 0 } });
    expect(c.message).toMatch(/lengths span \[1, 5\]/);
  });

  it('passes when every value fits', async () => {
    expect(await one({ type: 'string_length', column: 'code', max: 5 })).toMatchObject({ outcome: 'pass', observed: 0, threshold: { min: null, max: 5 } });
  });

  it('accepts failures up to a fraction of the rows', async () => {
    expect(await one({ type: 'string_length', column: 'code', min: 3, max: 4, maxFailingFraction: 0.3 })).toMatchObject({ outcome: 'pass', observed: 3 });
  });
});

describe('freshness', () => {
  it('passes when the newest value lies within maxLag of the end of the data interval', async () => {
    const c = await one({ type: 'freshness', column: 'updated_at', maxLag: 'PT2H' });
    expect(c).toMatchObject({
      name: 'freshness(updated_at)',
      outcome: 'pass',
      observed: { newest: '2024-01-15T05:00:00.000Z', lagSeconds: 3600 },
      threshold: { maxLag: 'PT2H', notBefore: '2024-01-15T04:00:00.000Z' },
    });
  });

  it('fails when the newest value is older than that', async () => {
    const c = await one({ type: 'freshness', column: 'updated_at', maxLag: 'PT30M' });
    expect(c).toMatchObject({ outcome: 'fail', observed: { lagSeconds: 3600 }, threshold: { notBefore: '2024-01-15T05:30:00.000Z' } });
  });

  it('fails on an empty result and says so', async () => {
    const empty = await stage(engine, { runId: 'empty', sql: `SELECT TIMESTAMP '2024-01-15 05:00:00' AS updated_at WHERE false`, parameters: [] });
    const report = await validateStaged([parse({ type: 'freshness', column: 'updated_at', maxLag: 'P1D' })], empty, engine, CONTEXT);
    expect(report.checks[0]).toMatchObject({ outcome: 'fail', observed: { newest: null, lagSeconds: null } });
    expect(report.checks[0].message).toMatch(/the result is empty/);
  });

  it('records a non-timestamp column as an error and rejects a month duration when the feed is read', async () => {
    const c = await one({ type: 'freshness', column: 'code', maxLag: 'P1D' });
    expect(c.outcome).toBe('error');
    expect(c.message).toMatch(/freshness needs a date or timestamp column; "code" is VARCHAR/);
    expect(checkSchema.safeParse({ type: 'freshness', column: 'updated_at', maxLag: 'P1M' }).success).toBe(false);
  });
});

describe('row_count_change', () => {
  it('passes a growth within maxIncreasePercent, recording both counts and the change', async () => {
    const c = await one({ type: 'row_count_change', maxIncreasePercent: 30 }, PREVIOUS);
    expect(c).toMatchObject({
      name: 'row_count_change',
      outcome: 'pass',
      observed: { previous: 8, current: 10, changePercent: 25, previousRunId: 'run-prev' },
      threshold: { maxIncreasePercent: 30, maxDecreasePercent: null },
    });
  });

  it('fails a growth beyond maxIncreasePercent', async () => {
    expect(await one({ type: 'row_count_change', maxIncreasePercent: 20 }, PREVIOUS)).toMatchObject({ outcome: 'fail', observed: { changePercent: 25 } });
  });

  it('fails a shrinkage beyond maxDecreasePercent', async () => {
    const c = await one({ type: 'row_count_change', maxDecreasePercent: 40 }, { ...PREVIOUS, rowCount: 20 });
    expect(c).toMatchObject({ outcome: 'fail', observed: { previous: 20, current: 10, changePercent: -50 } });
    expect(c.message).toMatch(/-50%, allowed -40%/);
  });

  it('passes with no previous drop and says so', async () => {
    const c = await one({ type: 'row_count_change', maxIncreasePercent: 1, maxDecreasePercent: 1 }, null);
    expect(c).toMatchObject({ outcome: 'pass', observed: null, message: 'no previous drop to compare with' });
  });

  it('fails any growth from an empty previous drop when an increase limit is set', async () => {
    expect(await one({ type: 'row_count_change', maxIncreasePercent: 1000 }, { ...PREVIOUS, rowCount: 0 })).toMatchObject({
      outcome: 'fail',
      observed: { changePercent: null },
    });
  });
});

describe('custom_sql', () => {
  it('counts the returned rows as failures and keeps a sample of at most sampleSize of them', async () => {
    const c = await one({ type: 'custom_sql', sql: 'SELECT id, amount FROM {{ table }} WHERE amount < 0 OR amount > 100 ORDER BY id', sampleSize: 1 });
    expect(c).toMatchObject({ name: 'custom_sql', outcome: 'fail', observed: 2, threshold: { maxFailing: 0 } });
    expect(c.sample).toEqual([{ id: 3, amount: -5 }]);
  });

  it('keeps 5 sample rows by default however many rows fail', async () => {
    const c = await one({ type: 'custom_sql', sql: 'SELECT id FROM {{table}} WHERE id > 2;', maxFailing: 8 });
    expect(c).toMatchObject({ outcome: 'pass', observed: 8 });
    expect(c.sample).toHaveLength(5);
    expect(c.sample!.every((r) => (r.id as number) > 2 && Object.keys(r).join() === 'id')).toBe(true);
  });

  it('passes with no sample when the query returns nothing, even after a trailing comment', async () => {
    const c = await one({ type: 'custom_sql', name: 'no_big_ids', sql: 'SELECT * FROM {{ table }} WHERE id > 100 -- none expected' });
    expect(c).toMatchObject({ name: 'no_big_ids', outcome: 'pass', observed: 0 });
    expect(c.sample).toBeUndefined();
  });

  it('rejects SQL without {{ table }} and a sample larger than 20 when the feed is read', () => {
    expect(checkSchema.safeParse({ type: 'custom_sql', sql: 'SELECT 1 WHERE false' }).success).toBe(false);
    expect(checkSchema.safeParse({ type: 'custom_sql', sql: 'SELECT * FROM {{ table }}', sampleSize: 21 }).success).toBe(false);
  });

  it('records SQL the engine rejects as an error', async () => {
    const c = await one({ type: 'custom_sql', sql: 'SELECT nope FROM {{ table }}' });
    expect(c).toMatchObject({ outcome: 'error', observed: null });
    expect(c.message).toMatch(/could not run: .*nope/);
  });
});

describe('schema', () => {
  it('passes a contract that names the engine types through common synonyms, in any case', async () => {
    const columns = [
      { name: 'id', type: 'int' },
      { name: 'status', type: 'string' },
      { name: 'email', type: 'text' },
      { name: 'amount', type: 'float8' },
      { name: 'updated_at', type: 'Timestamp' },
      { name: 'code', type: 'varchar' },
    ];
    const c = await one({ type: 'schema', columns, ordered: true });
    expect(c).toMatchObject({ name: 'schema', outcome: 'pass', observed: { missing: [], extra: [], changed: [], orderDiffers: false } });
  });

  it('reports missing, extra and changed columns by name', async () => {
    const c = await one({
      type: 'schema',
      columns: [
        { name: 'id', type: 'BIGINT' },
        { name: 'status', type: 'VARCHAR' },
        { name: 'country', type: 'VARCHAR' },
        { name: 'amount', type: 'DOUBLE' },
      ],
    });
    expect(c).toMatchObject({
      outcome: 'fail',
      observed: { missing: ['country'], extra: ['email', 'updated_at', 'code'], changed: [{ name: 'id', expected: 'BIGINT', actual: 'INTEGER' }] },
      threshold: { allowExtra: false, ordered: false },
    });
    expect(c.message).toBe('schema differs from the contract: missing "country"; unexpected "email", "updated_at", "code"; "id" is INTEGER, expected BIGINT');
  });

  it('accepts extra columns when allowed but fails a different order when ordered', async () => {
    const columns = [
      { name: 'status', type: 'VARCHAR' },
      { name: 'id', type: 'INTEGER' },
    ];
    const report = await run([
      { type: 'schema', columns, allowExtra: true },
      { type: 'schema', columns, allowExtra: true, ordered: true },
    ]);
    expect(report.checks[0]).toMatchObject({ outcome: 'pass', observed: { extra: ['email', 'amount', 'updated_at', 'code'] } });
    expect(report.checks[1]).toMatchObject({ outcome: 'fail', observed: { orderDiffers: true } });
    expect(report.checks[1].message).toMatch(/order is id, status, expected status, id/);
  });

  it('is judged without a query', async () => {
    const query = jest.spyOn(engine, 'query');
    await run([{ type: 'schema', columns: [{ name: 'id', type: 'INTEGER' }], allowExtra: true }]);
    // Only the profile's value lists are queried (DuckDB's profile itself comes from the staged file).
    expect(query.mock.calls.map(([sql]) => /^SELECT \* FROM \(SELECT 0 AS "k"/.test(sql))).toEqual([true]);
  });

  it('normalises case, spacing and aliases of type names', () => {
    expect(normaliseType('timestamptz')).toBe(normaliseType('TIMESTAMP  with time zone'));
    expect(normaliseType('decimal(18, 2)')).toBe('DECIMAL(18,2)');
    expect(normaliseType('INT8')).toBe('BIGINT');
    expect(normaliseType('bool')).toBe('BOOLEAN');
    expect(normaliseType('INT4')).not.toBe(normaliseType('BIGINT'));
  });
});

describe('a check on a column the query does not return', () => {
  it.each([
    { type: 'accepted_values', column: 'nope', values: ['a'] },
    { type: 'range', column: 'nope', min: 0 },
    { type: 'regex', column: 'nope', pattern: 'a' },
    { type: 'string_length', column: 'nope', max: 3 },
    { type: 'freshness', column: 'nope', maxLag: 'PT1H' },
  ])('is recorded as an error that blocks the drop: $type', async (config) => {
    const report = await run([config, { type: 'row_count', min: 1 }]);
    expect(report.checks[0]).toMatchObject({ outcome: 'error', observed: null, threshold: null });
    expect(report.checks[0].message).toMatch(/could not run: column "nope" not in the staged result \(columns: id, status, email, amount, updated_at, code\)/);
    expect(report.checks[1].outcome).toBe('pass');
    expect(report.status).toBe('fail');
  });
});

describe('aggregate checks', () => {
  const five = [
    { type: 'accepted_values', column: 'status', values: ['open', 'closed', 'lost', 'pending'] },
    { type: 'range', column: 'amount', min: -10, max: 200 },
    { type: 'string_length', column: 'code', max: 5 },
    { type: 'freshness', column: 'updated_at', maxLag: 'PT2H' },
    { type: 'row_count_change', maxIncreasePercent: 30 },
  ];

  it('share one scan of the staged table', async () => {
    const query = jest.spyOn(engine, 'query');
    const report = await run(five, PREVIOUS);
    // One scan for the checks (DuckDB's profile comes from the staged file), then the profile's value lists of few-valued columns.
    expect(query).toHaveBeenCalledTimes(2);
    expect(query.mock.calls[0][0]).toMatch(new RegExp(`^SELECT .* AS "c4_rows" FROM ${staged.table}$`));
    expect(query.mock.calls[1][0]).toMatch(/^SELECT \* FROM \(SELECT 0 AS "k"/);
    expect(report.checks.map((c) => c.outcome)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
  });

  it('run alone when the shared scan fails, so only the check the engine rejects is an error', async () => {
    const query = jest.spyOn(engine, 'query');
    // JavaScript accepts a look-ahead, DuckDB's RE2 rejects it when the statement runs.
    const report = await run([...five, { type: 'regex', column: 'code', pattern: '^(?=AB)' }], PREVIOUS);
    // The shared scan, each check alone, the profile's value lists (DuckDB's profile comes from the staged file).
    expect(query).toHaveBeenCalledTimes(1 + 6 + 1);
    expect(report.checks.map((c) => c.outcome)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'error']);
    expect(report.checks[5].message).toMatch(/could not run: .*\(\?=/);
    expect(report.checks[1].observed).toEqual({ outside: 0, min: -5, max: 150 });
    expect(report.status).toBe('fail');
  });
});

describe('compiled for Athena (Trino)', () => {
  it('matches patterns with regexp_like where DuckDB uses regexp_matches', () => {
    const config = { type: 'regex', column: 'email', pattern: "^[a-z']+@" };
    expect(sqlOf(compile(config, athenaDialect))).toContain(`NOT regexp_like("email", '^[a-z'']+@')`);
    expect(sqlOf(compile(config, duckdbDialect))).toContain(`NOT regexp_matches("email", '^[a-z'']+@')`);
  });

  it.each([
    [{ type: 'accepted_values', column: 'status', values: ['open', 1] }, `"status" NOT IN ('open', '1')`],
    [{ type: 'range', column: 'updated_at', min: '2024-01-14' }, `"updated_at" < TIMESTAMP '2024-01-14 00:00:00.000'`],
    [{ type: 'string_length', column: 'code', min: 2 }, `length("code") < 2`],
    [{ type: 'freshness', column: 'updated_at', maxLag: 'PT1H' }, `max("updated_at")`],
    [{ type: 'row_count_change', maxDecreasePercent: 10 }, 'count(*)'],
    [
      { type: 'custom_sql', sql: 'SELECT * FROM {{ table }} WHERE id < 0' },
      `LEFT JOIN (SELECT * FROM (\nSELECT * FROM "stg" WHERE id < 0\n) f LIMIT 5) s ON TRUE`,
    ],
  ])('compiles %j to SQL Trino takes, with no DuckDB-only function', (config, expected) => {
    const sql = sqlOf(compile(config, athenaDialect));
    expect(sql).toContain(expected);
    expect(sql).not.toMatch(/regexp_matches|count_if|::/);
  });

  it('reads timestamps in the text form each engine returns', () => {
    expect(readTimestamp('2024-01-15 05:00:00.000 UTC')).toBe('2024-01-15T05:00:00.000Z');
    expect(readTimestamp('2024-01-15 07:00:00+02')).toBe('2024-01-15T05:00:00.000Z');
    expect(readTimestamp('2024-01-15')).toBe('2024-01-15T00:00:00.000Z');
    expect(readTimestamp('not a time')).toBeNull();
  });
});
