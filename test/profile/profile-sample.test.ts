import type { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { estimateDistinct, PROFILE_SAMPLE_ROWS, Profile, QUANTILE_LEVELS, samplePlan } from '../../lib/core/profile/profile';
import type { QueryEngine, StagedTable } from '../../lib/core/ports/query-engine';
import { validateStaged } from '../../lib/core/steps/validate';
import { openTestEngine, stage } from '../helpers/engine';

const SLOT = {
  id: '20240115T060000Z',
  scheduledFor: '2024-01-15T06:00:00.000Z',
  dataInterval: { start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' },
  timezone: 'UTC',
  cron: '0 6 * * *',
};

describe('the profile sample', () => {
  it('is every row of a drop up to PROFILE_SAMPLE_ROWS rows', () => {
    expect(samplePlan([])).toEqual({ groups: [], share: 1 });
    expect(samplePlan([60_000, 5_536])).toEqual({ groups: [0, 1], share: 1 });
  });

  it('reads every row group of a larger drop with few of them, keeping about PROFILE_SAMPLE_ROWS of their rows', () => {
    expect(samplePlan([122_880, 122_880, 54_240])).toEqual({ groups: [0, 1, 2], share: PROFILE_SAMPLE_ROWS / 300_000 });
  });

  it('reads 16 row groups evenly spaced through a drop with more, the same ones every time', () => {
    const groups = Array.from({ length: 41 }, () => 122_880);
    const plan = samplePlan(groups);
    expect(plan.groups).toEqual([1, 3, 6, 8, 11, 14, 16, 19, 21, 24, 26, 29, 32, 34, 37, 39]);
    expect(plan.share).toBeCloseTo(PROFILE_SAMPLE_ROWS / (16 * 122_880), 12);
    expect(samplePlan(groups)).toEqual(plan);
  });
});

describe('estimateDistinct (Chao1 without replacement)', () => {
  it('is exact when the sample is the whole column, when every sampled value repeats, and when none does', () => {
    expect(estimateDistinct({ population: 500, sampled: 500, distinct: 123, once: 40, twice: 10 })).toBe(123);
    expect(estimateDistinct({ population: 1_000_000, sampled: 65_536, distinct: 7, once: 0, twice: 0 })).toBe(7);
    expect(estimateDistinct({ population: 1_000_000, sampled: 65_536, distinct: 65_536, once: 65_536, twice: 0 })).toBe(1_000_000);
    expect(estimateDistinct({ population: 10, sampled: 0, distinct: 0, once: 0, twice: 0 })).toBe(0);
  });

  it('adds the values the sample missed, f1² / (2·f2·n/(n−1) + f1·q/(1−q)), never more than the population', () => {
    // q = 0.1: 600 + 400² / (2·100·1000/999 + 400/9) = 600 + 654.
    expect(estimateDistinct({ population: 10_000, sampled: 1_000, distinct: 600, once: 400, twice: 100 })).toBe(1254);
    expect(estimateDistinct({ population: 1_000, sampled: 999, distinct: 999, once: 999, twice: 0 })).toBe(1_000);
  });
});

/**
 * Known distributions, large enough that DuckDB profiles a sample of 16 runs of rows over several
 * row groups, read by two threads.
 */
describe('the profile of a large drop on DuckDB', () => {
  const ROWS = 300_000;
  let engine: DuckDbEngine;
  let close: () => Promise<void>;
  let staged: StagedTable;
  let profile: Profile;
  beforeAll(async () => {
    ({ engine, cleanup: close } = await openTestEngine({ threads: 2 }));
    staged = await stage(engine, {
      runId: 'large',
      sql: `SELECT i AS id,
              (hash(i) % 1000003) / 1000003.0 AS u,
              CASE WHEN i % 10 = 0 THEN NULL ELSE 'c' || (i % 7) END AS cat,
              hash(i * 31) % 5000 AS grp,
              hash(i * 17) % 100000 AS spread,
              (i * 7919) % 100000 AS patterned,
              repeat('x', CAST(i % 50 + 1 AS INTEGER)) AS s,
              TIMESTAMP '2024-01-01' + to_seconds(i) AS at
            FROM range(${ROWS}) r(i)`,
    });
    profile = (await validateStaged([], staged, engine, { slot: SLOT, previous: null })).profile!;
  });
  afterAll(async () => close());

  const col = (p: Profile, name: string) => p.columns.find((c) => c.name === name)!;

  it('counts rows and NULLs and finds min and max exactly', () => {
    expect(profile.rows).toBe(ROWS);
    expect(col(profile, 'cat').nullFraction).toBe(0.1);
    expect(col(profile, 'id')).toMatchObject({ nullFraction: 0, min: 0, max: ROWS - 1 });
    expect(col(profile, 'at')).toMatchObject({ min: '2024-01-01T00:00:00.000Z', max: new Date(Date.UTC(2024, 0, 1) + (ROWS - 1) * 1000).toISOString() });
    expect(col(profile, 's').length).toEqual({ min: 1, max: 50 });
  });

  it('places the deciles within a point of rank of the truth for values in random order and in file order', () => {
    const id = col(profile, 'id').quantiles as number[];
    QUANTILE_LEVELS.forEach((level, k) => expect(Math.abs(id[k] - level * ROWS)).toBeLessThan(0.01 * ROWS));
    const u = col(profile, 'u').quantiles as number[];
    QUANTILE_LEVELS.forEach((level, k) => expect(Math.abs(u[k] - level)).toBeLessThan(0.01));
    expect(Math.abs((col(profile, 'u').mean as number) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs((col(profile, 'id').mean as number) - ROWS / 2)).toBeLessThan(0.01 * ROWS);
  });

  it('counts distinct values exactly for a key and for a few-valued column, and within 15% for values spread through the drop', async () => {
    expect(col(profile, 'id').distinct).toBe(ROWS);
    expect(col(profile, 'cat')).toMatchObject({ distinct: 7 });
    expect(col(profile, 'cat').top!.reduce((n, t) => n + t.count, 0)).toBe(0.9 * ROWS);
    expect(Math.abs(col(profile, 'grp').distinct - 5000)).toBeLessThan(500);
    // About 95,000 values (100,000 drawn 300,000 times), each about 3 times: the sample sees about half of them.
    const [{ n }] = await engine.query(`SELECT count(DISTINCT spread) AS n FROM ${staged.table}`, staged);
    const truth = Number(n);
    expect(Math.abs(col(profile, 'spread').distinct - truth)).toBeLessThan(0.15 * truth);
    // 100,000 values, each exactly 3 times, in a pattern by position (no value twice among consecutive rows).
    expect(Math.abs(col(profile, 'patterned').distinct - 100_000)).toBeLessThan(15_000);
  });

  it('gives the same profile every time for the same rows', async () => {
    const again = (await validateStaged([], staged, engine, { slot: SLOT, previous: null })).profile;
    expect(again).toEqual(profile);
  });

  it('on an engine without its own profile, the checks’ scan also puts the deciles within a point of rank', async () => {
    const scanOnly = Object.assign(Object.create(engine) as QueryEngine, { profile: undefined });
    const scanned = (await validateStaged([], staged, scanOnly, { slot: SLOT, previous: null })).profile!;
    const id = col(scanned, 'id').quantiles as number[];
    QUANTILE_LEVELS.forEach((level, k) => expect(Math.abs(id[k] - level * ROWS)).toBeLessThan(0.01 * ROWS));
    expect(col(scanned, 'cat').nullFraction).toBe(0.1);
  });
});

describe('the NULL fraction DuckDB reads from the staged file', () => {
  it('matches counting, for a quoted name and for nested columns (whose footer counts are per leaf, so they are counted)', async () => {
    const { engine, cleanup } = await openTestEngine();
    try {
      const staged = await stage(engine, {
        runId: 'nested',
        sql: `SELECT CASE WHEN i % 4 = 0 THEN NULL ELSE i END AS "Mixed Name.x",
                CASE WHEN i % 5 = 0 THEN NULL ELSE {'a': i, 'b': CASE WHEN i % 2 = 0 THEN NULL ELSE i END} END AS st,
                CASE WHEN i % 3 = 0 THEN NULL ELSE [i, NULL] END AS lst
              FROM range(100) r(i)`,
      });
      const own = (await validateStaged([], staged, engine, { slot: SLOT, previous: null })).profile!;
      const scanOnly = Object.assign(Object.create(engine) as QueryEngine, { profile: undefined });
      const scanned = (await validateStaged([], staged, scanOnly, { slot: SLOT, previous: null })).profile!;
      expect(own.columns.map((c) => c.nullFraction)).toEqual([0.25, 0.2, 0.34]);
      expect(scanned.columns.map((c) => c.nullFraction)).toEqual([0.25, 0.2, 0.34]);
    } finally {
      await cleanup();
    }
  });
});
