import { join } from 'node:path';
import { checkSchema } from '../../lib/core/checks/registry';
import { cdfAt, cdfPoints, ksDistance, populationStability } from '../../lib/core/profile/distance';
import type { ColumnProfile } from '../../lib/core/profile/profile';
import { QUANTILE_LEVELS } from '../../lib/core/profile/profile';
import { readJson, runFeed } from '../helpers/local-run';
import { tempProject, writeParquet, PROJECT_YAML, TempProject } from '../helpers/temp-project';

/** A numeric column profile of values spread evenly over [lo, hi]. */
function uniform(lo: number, hi: number): ColumnProfile {
  return {
    name: 'x',
    kind: 'number',
    nullFraction: 0,
    distinct: 100,
    min: lo,
    max: hi,
    mean: (lo + hi) / 2,
    quantiles: QUANTILE_LEVELS.map((p) => lo + p * (hi - lo)),
  };
}
const points = (c: ColumnProfile) => cdfPoints(c, QUANTILE_LEVELS)!;

describe('distances between profiled distributions', () => {
  it('reads the CDF off min, quantiles and max, linearly between them', () => {
    const cdf = points(uniform(0, 100));
    expect(cdfAt(cdf, -1)).toBe(0);
    expect(cdfAt(cdf, 25)).toBeCloseTo(0.25, 10);
    expect(cdfAt(cdf, 100)).toBe(1);
  });

  it('gives PSI and KS of zero for the same distribution and large values for a shifted one', () => {
    expect(populationStability(points(uniform(0, 100)), points(uniform(0, 100)))).toBeCloseTo(0, 10);
    expect(ksDistance(points(uniform(0, 100)), points(uniform(0, 100)))).toBe(0);
    // Half the mass moved out of the old range: KS 0.5, PSI far past the 0.25 rule of thumb.
    expect(ksDistance(points(uniform(0, 100)), points(uniform(50, 150)))).toBeCloseTo(0.5, 10);
    expect(populationStability(points(uniform(0, 100)), points(uniform(50, 150)))).toBeGreaterThan(1);
    // A small shift stays under the moderate band.
    expect(populationStability(points(uniform(0, 100)), points(uniform(1, 101)))).toBeLessThan(0.1);
  });

  it('has no CDF for a column without values', () => {
    expect(cdfPoints({ ...uniform(0, 1), min: null, max: null, quantiles: null }, QUANTILE_LEVELS)).toBeNull();
  });

  it('refuses a drift threshold out of range, naming the field', () => {
    const parsed = checkSchema.safeParse({ type: 'drift', maxNullFractionChange: 2 });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(/maxNullFractionChange/);
  });
});

/*
 * Three daily drops through the local pipeline: the 14th (first: nothing to compare), the 15th
 * (like the 14th) and the 16th (amounts shifted up, a new status, more NULL regions).
 */
describe('the drift check in a run', () => {
  let project: TempProject;
  beforeAll(async () => {
    project = tempProject({
      'dropkit.yaml': PROJECT_YAML,
      'feeds/orders.yaml': `name: orders
description: test feed
owner: tests@example.com
schedule:
  cron: "0 6 * * *"
  timezone: UTC
sla:
  deliverWithin: PT2H
formats:
  csv:
    gzip: false
columns:
  email: { pii: true }
checks:
  - type: drift
    severity: warn
    name: status drift
    columns: [status]
    maxNewCategories: 0
  - type: drift
    columns: [amount, region]
    maxPsi: 0.25
    maxNullFractionChange: 0.2
`,
      'feeds/orders.sql': `SELECT id, amount, status, region, email FROM events WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id`,
    });
    // Per day 200 rows. Day 16: amounts +500, a 'refunded' status, region NULL in half the rows.
    await writeParquet(
      join(project.dir, 'data/events.parquet'),
      `SELECT d * 1000 + i AS id,
              CAST(i + CASE WHEN d = 16 THEN 500 ELSE 0 END AS DOUBLE) AS amount,
              CASE WHEN d = 16 AND i % 4 = 0 THEN 'refunded' ELSE ['new','paid'][i % 2 + 1] END AS status,
              CASE WHEN d = 16 AND i % 2 = 0 THEN NULL ELSE ['eu','us'][i % 2 + 1] END AS region,
              'u' || i || '@example.com' AS email,
              TIMESTAMP '2024-01-01 07:00:00' + INTERVAL (d - 1) DAY AS happened_at
       FROM range(14, 17) a(d), range(0, 200) b(i)`,
    );
  });
  afterAll(() => project.cleanup());

  const run = (day: number) => runFeed(project.dir, 'orders', { slot: `2024-01-${day + 1}T06:00:00Z`, now: '2024-01-20T00:00:00Z' });

  it('passes the first drop with "no previous drop", then compares each drop with the one before', async () => {
    const first = await run(14);
    expect(first.outcome.status).toBe('delivered');
    const firstChecks = first.outcome.validation!.checks;
    expect(firstChecks.map((c) => [c.name, c.outcome, c.message])).toEqual([
      ['status drift(status)', 'pass', 'no previous drop to compare with'],
      ['drift(amount)', 'pass', 'no previous drop to compare with'],
      ['drift(region)', 'pass', 'no previous drop to compare with'],
    ]);
    expect(firstChecks[1].threshold).toEqual({
      maxPsi: 0.25,
      maxKsDistance: null,
      maxNullFractionChange: 0.2,
      maxNewCategories: null,
      maxVanishedCategories: null,
    });

    const second = await run(15);
    expect(second.outcome.status).toBe('delivered');
    const [status, amount] = second.outcome.validation!.checks;
    expect(amount).toMatchObject({ outcome: 'pass', observed: { psi: 0, ksDistance: 0, nullFractionChange: 0 } });
    expect(status).toMatchObject({ outcome: 'pass', observed: { newCategories: [], vanishedCategories: [] } });
    // The manifest carries the profile the next drop compares with; no PII values in it.
    const manifest = await readJson(second.store, (second.outcome as { manifestKey: string }).manifestKey);
    expect(manifest.profile.columns.map((c: ColumnProfile) => c.name)).toEqual(['id', 'amount', 'status', 'region', 'email']);
    expect(JSON.stringify(manifest)).not.toContain('@example.com');
  });

  it('fails a drop whose distribution shifted, naming the measure, the observed value and the threshold', async () => {
    const third = await run(16);
    expect(third.outcome.status).toBe('validation-failed');
    const byName = Object.fromEntries(third.outcome.validation!.checks.map((c) => [c.name, c]));
    expect(byName['status drift(status)']).toMatchObject({
      outcome: 'warn',
      observed: { newCategories: ['refunded'], vanishedCategories: [] },
      threshold: { maxNewCategories: 0 },
    });
    expect(byName['drift(amount)'].outcome).toBe('fail');
    expect((byName['drift(amount)'].observed as { psi: number }).psi).toBeGreaterThan(0.25);
    expect(byName['drift(amount)'].message).toMatch(/"amount" drifted against the previous drop \(run [^)]+\): PSI [\d.]+ above 0.25/);
    expect(byName['drift(region)']).toMatchObject({ outcome: 'fail', observed: { nullFractionChange: 0.5 } });
    expect(byName['drift(region)'].message).toMatch(/NULL fraction changed by 0.5 \(allowed ±0.2\)/);
  });
});
