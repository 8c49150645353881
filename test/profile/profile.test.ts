import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { checkSchema, CheckConfig } from '../../lib/core/checks/registry';
import { manifestProblems } from '../../lib/core/manifest-schema';
import { MAX_PROFILE_CHARS, MAX_TOP_VALUES, QUANTILE_LEVELS, withTopValues, Profile } from '../../lib/core/profile/profile';
import { validateStaged } from '../../lib/core/steps/validate';
import type { QueryEngine, StagedTable } from '../../lib/core/ports/query-engine';
import { openTestEngine, stage } from '../helpers/engine';
import { validManifest } from '../helpers/manifest-fixture';

const FILES = [{ path: 'part-00000.csv', format: 'csv' as const, compression: 'none' as const, rows: 100, bytes: 10, sha256: 'a'.repeat(64) }];

const SLOT = {
  id: '20240115T060000Z',
  scheduledFor: '2024-01-15T06:00:00.000Z',
  dataInterval: { start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' },
  timezone: 'UTC',
  cron: '0 6 * * *',
};

/** Counts the statements an engine is asked to run, passing them on. */
function counting(engine: QueryEngine): { engine: QueryEngine; statements: string[] } {
  const statements: string[] = [];
  const wrapped = Object.create(engine) as QueryEngine;
  wrapped.query = (sql: string, staged: StagedTable) => {
    statements.push(sql);
    return engine.query(sql, staged);
  };
  return { engine: wrapped, statements };
}

describe('the profile of a drop', () => {
  let engine: DuckDbEngine;
  let close: () => Promise<void>;
  let staged: StagedTable;
  beforeAll(async () => {
    ({ engine, cleanup: close } = await openTestEngine());
    // 100 rows: n = 1..100, status cycles over three values with every 10th NULL, a day per row, an e-mail per row.
    staged = await stage(engine, {
      runId: 'profiled',
      sql: `SELECT i AS n, CAST(i * 1.5 AS DECIMAL(10,2)) AS amount,
              CASE WHEN i % 10 = 0 THEN NULL ELSE ['new','paid','shipped'][i % 3 + 1] END AS status,
              TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i - 1) HOUR AS at,
              'user' || i || '@example.com' AS email, i % 2 = 0 AS even
            FROM range(1, 101) r(i)`,
    });
  });
  afterAll(async () => close());

  const checks = (list: unknown[]) => list.map((c) => checkSchema.parse(c) as CheckConfig);

  /** The engine as one without a profile of its own (Athena): the profile joins the checks' scan. */
  const scanOnly = (e: QueryEngine): QueryEngine => Object.assign(Object.create(e) as QueryEngine, { profile: undefined });

  it('on an engine without its own profile, is computed in the same statement as the aggregate checks, plus one grouped query for the few-valued columns', async () => {
    const { engine: counted, statements } = counting(scanOnly(engine));
    const report = await validateStaged(
      checks([
        { type: 'row_count', min: 1 },
        { type: 'not_null', columns: ['n'] },
      ]),
      staged,
      counted,
      { slot: SLOT, previous: null },
    );
    expect(report.checks.map((c) => c.outcome)).toEqual(['pass', 'pass']);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(/count\(\*\) AS "c0_rows".*AS "p0_quantiles"/);
    expect(statements[1]).toMatch(
      /^SELECT \* FROM \(SELECT 0 AS "k", CAST\("status" AS VARCHAR\).*GROUP BY "status" LIMIT 21\) AS "t0" UNION ALL .*GROUP BY "even" LIMIT 21\) AS "t1"$/,
    );
    expect(report.profile?.rows).toBe(100);
  });

  it("on DuckDB, keeps the profile out of the checks' scan (its own comes from the staged file) and gives the same numbers", async () => {
    const { engine: counted, statements } = counting(engine);
    const list = checks([
      { type: 'row_count', min: 1 },
      { type: 'not_null', columns: ['n'] },
    ]);
    const report = await validateStaged(list, staged, counted, { slot: SLOT, previous: null });
    expect(report.checks.map((c) => c.outcome)).toEqual(['pass', 'pass']);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(/^SELECT count\(\*\) AS "c0_rows", .* FROM "[^"]+"$/);
    expect(statements[0]).not.toMatch(/"p\d*_/);
    expect(statements[1]).toMatch(/GROUP BY "status" LIMIT 21/);
    // A drop this small is its own whole sample: the same profile as the checks' scan gives, but
    // for the deciles and distinct counts, which are exact here where the scan's are approximate.
    const scanned = await validateStaged(list, staged, scanOnly(engine), { slot: SLOT, previous: null });
    const approximate = (p: Profile | undefined) => p?.columns.map(({ quantiles: _q, distinct: _d, ...rest }) => rest);
    expect(approximate(report.profile)).toEqual(approximate(scanned.profile));
    expect(report.profile!.columns.map((c) => c.distinct)).toEqual([100, 100, 3, 100, 100, 2]);
    expect(report.profile!.columns[0].quantiles).toEqual([10.9, 20.8, 30.7, 40.6, 50.5, 60.4, 70.3, 80.2, 90.1]);
  });

  it('gives null fraction, distinct estimate, min/max/mean/deciles, string lengths and full value lists', async () => {
    const { profile } = await validateStaged([], staged, engine, { slot: SLOT, previous: null, pii: new Set(['email']) });
    const col = (name: string) => profile!.columns.find((c) => c.name === name)!;
    expect(profile!.quantileLevels).toEqual(QUANTILE_LEVELS);
    expect(col('n')).toMatchObject({ kind: 'number', nullFraction: 0, min: 1, max: 100, mean: 50.5 });
    // Approximate quantiles: the median of 1..100 is within one of 50.5.
    expect(Math.abs((col('n').quantiles![4] as number) - 50.5)).toBeLessThanOrEqual(1);
    expect(col('n').distinct).toBeGreaterThan(80);
    expect(col('amount')).toMatchObject({ kind: 'number', min: 1.5, max: 150 });
    expect(col('at')).toMatchObject({ kind: 'time', min: '2024-01-01T00:00:00.000Z', max: '2024-01-05T03:00:00.000Z' });
    expect(col('at').quantiles!.every((q) => typeof q === 'string' && q.startsWith('2024-01-0'))).toBe(true);
    expect(col('status')).toMatchObject({ kind: 'string', nullFraction: 0.1, distinct: 3, length: { min: 3, max: 7 } });
    // i % 3: 1..99 minus the tens: 'paid' (i%3=1) 30, 'shipped' (2) 30, 'new' (0) 30 → less the NULLed tens.
    expect(
      col('status')
        .top!.map((t) => t.value)
        .sort(),
    ).toEqual(['new', 'paid', 'shipped']);
    expect(col('status').top!.reduce((s, t) => s + t.count, 0)).toBe(90);
    expect(col('even').top).toEqual([
      { value: 'false', count: 50 },
      { value: 'true', count: 50 },
    ]);
    // PII: profiled, but no values of it appear.
    expect(col('email')).toMatchObject({ kind: 'string', nullFraction: 0, length: { min: 17, max: 19 } });
    expect(col('email').top).toBeUndefined();
    expect(JSON.stringify(profile)).not.toContain('@example.com');
  });

  it('lists no values of a few-valued column marked pii', async () => {
    const { profile } = await validateStaged([], staged, engine, { slot: SLOT, previous: null, pii: new Set(['status']) });
    const status = profile!.columns.find((c) => c.name === 'status')!;
    expect(status).toMatchObject({ nullFraction: 0.1, distinct: 3 });
    expect(status.top).toBeUndefined();
    expect(profile!.columns.find((c) => c.name === 'even')!.top).toHaveLength(2);
  });

  it('fits the manifest schema, and a manifest without a profile still validates', async () => {
    const { profile } = await validateStaged([], staged, engine, { slot: SLOT, previous: null });
    expect(manifestProblems({ ...validManifest(FILES), profile })).toEqual([]);
    expect(manifestProblems(validManifest(FILES))).toEqual([]);
    expect(manifestProblems({ ...validManifest(FILES), profile: { ...profile, columns: [{ name: 'x' }] } }).join()).toMatch(/kind/);
  });

  it('profiles an empty drop without failing', async () => {
    const empty = await stage(engine, { runId: 'empty', sql: `SELECT 1 AS n, 'a' AS s, TIMESTAMP '2024-01-01' AS at WHERE false` });
    const { profile } = await validateStaged([], empty, engine, { slot: SLOT, previous: null });
    expect(profile).toEqual({
      rows: 0,
      quantileLevels: QUANTILE_LEVELS,
      columns: [
        { name: 'n', kind: 'number', nullFraction: 0, distinct: 0, min: null, max: null, mean: null, quantiles: null },
        { name: 's', kind: 'string', nullFraction: 0, distinct: 0, length: null },
        { name: 'at', kind: 'time', nullFraction: 0, distinct: 0, min: null, max: null, mean: null, quantiles: null },
      ],
    });
  });

  it("falls back to the checks' scan when the engine's own profile fails", async () => {
    const { engine: counted, statements } = counting(engine);
    counted.profile = () => Promise.reject(new Error('no footer here'));
    const report = await validateStaged(checks([{ type: 'row_count', min: 1 }]), staged, counted, { slot: SLOT, previous: null });
    expect(statements[0]).toMatch(/count\(\*\) AS "c0_rows".*AS "p0_quantiles"/);
    expect(report.profile?.columns.find((c) => c.name === 'n')).toMatchObject({ min: 1, max: 100, mean: 50.5, nullFraction: 0 });
  });

  it('leaves the profile out, and still judges the checks, when the profile cannot be computed', async () => {
    const failing = Object.create(engine) as QueryEngine;
    // The engine's own profile fails, and so does the checks' scan's, which is tried next.
    failing.profile = () => Promise.reject(new Error('no footer here'));
    failing.query = (sql, s) => (sql.includes('p_rows') ? Promise.reject(new Error('no approx here')) : engine.query(sql, s));
    const report = await validateStaged(
      checks([
        { type: 'row_count', min: 1 },
        { type: 'drift', columns: ['n'] },
      ]),
      staged,
      failing,
      { slot: SLOT, previous: null },
    );
    expect(report.profile).toBeUndefined();
    expect(report.checks.map((c) => [c.name, c.outcome])).toEqual([
      ['row_count', 'pass'],
      ['drift(n)', 'error'],
    ]);
    expect(report.checks[1].message).toMatch(/no profile of this drop: no approx here/);
  });

  it('lists no values of a column whose list came back cut (its distinct estimate was low), rather than a partial one', () => {
    const profile: Profile = {
      rows: 50,
      quantileLevels: QUANTILE_LEVELS,
      columns: [
        { name: 'a', kind: 'string', nullFraction: 0, distinct: 20 },
        { name: 'b', kind: 'string', nullFraction: 0, distinct: 2 },
      ],
    };
    const rows = [...Array.from({ length: MAX_TOP_VALUES + 1 }, (_, i) => ({ k: 0, v: `v${i}`, n: 1 })), { k: '1', v: 'x', n: '3' }, { k: 1, v: 'y', n: 5 }];
    const [a, b] = withTopValues(profile, ['a', 'b'], rows).columns;
    expect(a.top).toBeUndefined();
    expect(b.top).toEqual([
      { value: 'y', count: 5 },
      { value: 'x', count: 3 },
    ]);
  });

  it('drops the longest value lists when a profile would grow past its bound (it travels in the run state)', () => {
    const names = Array.from({ length: 60 }, (_, i) => `c${i}`);
    const profile: Profile = {
      rows: 20,
      quantileLevels: QUANTILE_LEVELS,
      columns: names.map((name) => ({ name, kind: 'string', nullFraction: 0, distinct: 20 })),
    };
    // 60 columns x 20 values of 100 characters: about 150 KB of lists; c0 has the longest values.
    const rows = names.flatMap((_, k) => Array.from({ length: 20 }, (_, i) => ({ k, v: `${k === 0 ? 'y' : 'x'}${i}`.padEnd(k === 0 ? 100 : 90, '.'), n: 1 })));
    const bounded = withTopValues(profile, names, rows);
    expect(JSON.stringify(bounded).length).toBeLessThanOrEqual(MAX_PROFILE_CHARS + 200);
    expect(bounded.columns[0].top).toBeUndefined();
    expect(bounded.columns.filter((c) => c.top).length).toBeGreaterThan(20);
  });
});
