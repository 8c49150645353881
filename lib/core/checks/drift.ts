import * as z from 'zod';
import { cdfPoints, ksDistance, populationStability } from '../profile/distance';
import type { ColumnProfile, Profile } from '../profile/profile';
import { CheckDefinition, commonCheckFields, CompiledCheck, Judgement } from './check-types';
import { missingColumns, unknownColumnError } from './sql';

const share = z.number().min(0).max(1);
const count = z.number().int().min(0);

const schema = z
  .strictObject({
    type: z.literal('drift'),
    ...commonCheckFields,
    columns: z.array(z.string().min(1)).min(1).optional().meta({ description: 'Columns to compare; default every column of the drop' }),
    maxPsi: z.number().min(0).default(0.25).meta({
      description: 'Largest population stability index of a numeric or date/time column over the previous drop’s deciles (< 0.1 stable, > 0.25 a major shift)',
    }),
    maxKsDistance: share
      .optional()
      .meta({ description: 'Largest Kolmogorov–Smirnov distance (0–1) between the two distributions, estimated from the quantiles' }),
    maxNullFractionChange: share.default(0.1).meta({ description: 'Largest change of the NULL fraction, e.g. 0.05 for 5 percentage points' }),
    maxNewCategories: count.optional().meta({ description: 'Most values allowed that the previous drop did not have (low-cardinality columns)' }),
    maxVanishedCategories: count.optional().meta({ description: 'Most values of the previous drop allowed to be missing now (low-cardinality columns)' }),
  })
  .meta({
    description:
      "Each column's profile is close to the previous delivered drop of the same feed and partner (one result per column); passes when there is none",
  });

type DriftConfig = z.output<typeof schema>;

const round4 = (n: number) => Math.round(n * 10000) / 10000;

/** Compares one column's profile with the previous drop's; every measure that applies is observed. */
function thresholdOf(check: DriftConfig) {
  return {
    maxPsi: check.maxPsi,
    maxKsDistance: check.maxKsDistance ?? null,
    maxNullFractionChange: check.maxNullFractionChange,
    maxNewCategories: check.maxNewCategories ?? null,
    maxVanishedCategories: check.maxVanishedCategories ?? null,
  };
}

export function judgeDrift(check: DriftConfig, column: string, current: Profile, previous: Profile | null | undefined, previousRunId: string): Judgement {
  const threshold = thresholdOf(check);
  const now = current.columns.find((c) => c.name === column);
  const before = previous?.columns.find((c) => c.name === column);
  if (!now) throw new Error(`no profile of column "${column}" in this drop`);
  if (!previous) return { passed: true, observed: null, threshold, message: `the previous drop (run ${previousRunId}) has no profile to compare with` };
  if (!before)
    return { passed: true, observed: null, threshold, message: `"${column}" is new since the previous drop (run ${previousRunId}): nothing to compare` };

  const problems: string[] = [];
  const facts: string[] = [];
  const nullFractionChange = round4(now.nullFraction - before.nullFraction);
  facts.push(`NULL fraction ${before.nullFraction} → ${now.nullFraction}`);
  if (Math.abs(nullFractionChange) > check.maxNullFractionChange)
    problems.push(`NULL fraction changed by ${nullFractionChange} (allowed ±${check.maxNullFractionChange})`);

  const observed: Record<string, unknown> = { previousRunId, nullFractionChange };
  const prevCdf = cdfPoints(before, previous.quantileLevels);
  const curCdf = cdfPoints(now, current.quantileLevels);
  if (prevCdf && curCdf) {
    const psi = round4(populationStability(prevCdf, curCdf));
    const ks = round4(ksDistance(prevCdf, curCdf));
    Object.assign(observed, { psi, ksDistance: ks });
    facts.push(`PSI ${psi}`, `KS ${ks}`);
    if (psi > check.maxPsi) problems.push(`PSI ${psi} above ${check.maxPsi}`);
    if (check.maxKsDistance !== undefined && ks > check.maxKsDistance) problems.push(`KS distance ${ks} above ${check.maxKsDistance}`);
  }
  const categories = categoryChange(before, now);
  if (categories) {
    Object.assign(observed, categories);
    facts.push(`${categories.newCategories.length} new, ${categories.vanishedCategories.length} vanished values`);
    if (check.maxNewCategories !== undefined && categories.newCategories.length > check.maxNewCategories)
      problems.push(`new values ${list(categories.newCategories)} (allowed ${check.maxNewCategories})`);
    if (check.maxVanishedCategories !== undefined && categories.vanishedCategories.length > check.maxVanishedCategories)
      problems.push(`vanished values ${list(categories.vanishedCategories)} (allowed ${check.maxVanishedCategories})`);
  }
  const against = `against the previous drop (run ${previousRunId})`;
  return {
    passed: problems.length === 0,
    observed,
    threshold,
    message: problems.length ? `"${column}" drifted ${against}: ${problems.join('; ')}` : `"${column}" ${against}: ${facts.join(', ')}`,
  };
}

const list = (values: readonly string[]) =>
  values
    .slice(0, 5)
    .map((v) => JSON.stringify(v))
    .join(', ') + (values.length > 5 ? ` and ${values.length - 5} more` : '');

/** New and vanished values, when both drops listed every value of the column. */
function categoryChange(before: ColumnProfile, now: ColumnProfile) {
  if (!before.top || !now.top) return null;
  const had = new Set(before.top.map((t) => t.value));
  const has = new Set(now.top.map((t) => t.value));
  return { newCategories: [...has].filter((v) => !had.has(v)), vanishedCategories: [...had].filter((v) => !has.has(v)) };
}

export const driftCheck: CheckDefinition<typeof schema> = {
  type: 'drift',
  schema,
  compile(check, target) {
    const columns = check.columns ?? target.columns.map((c) => c.name);
    const previous = target.previous;
    return columns.map((column): CompiledCheck => {
      const name = check.name ? `${check.name}(${column})` : `drift(${column})`;
      const base = { type: 'drift', name, severity: check.severity } as const;
      const missing = missingColumns([column], target.columns);
      if (missing.length) return { ...base, kind: 'invalid', error: unknownColumnError(missing, target.columns) };
      return {
        ...base,
        kind: 'profile',
        judge(profile) {
          if (!previous) return { passed: true, observed: null, threshold: thresholdOf(check), message: 'no previous drop to compare with' };
          return judgeDrift(check, column, profile, previous.profile, previous.runId);
        },
      };
    });
  },
};
