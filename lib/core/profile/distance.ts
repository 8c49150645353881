import type { ColumnProfile } from './profile';

/**
 * Distances between two numeric distributions known only by their profiles (min, quantiles, max).
 * Each profile gives a piecewise-linear CDF through (min, 0), (q_i, level_i), (max, 1).
 */

export interface CdfPoint {
  readonly x: number;
  readonly p: number;
}

const valueOf = (v: number | string): number => (typeof v === 'number' ? v : Date.parse(v));

/** The CDF points of a numeric or time column profile, or null if it has no values. */
export function cdfPoints(column: ColumnProfile, levels: readonly number[]): CdfPoint[] | null {
  if (column.min === null || column.min === undefined || column.max === null || column.max === undefined || !column.quantiles) return null;
  if (column.quantiles.length !== levels.length) return null;
  const points = [{ x: valueOf(column.min), p: 0 }, ...column.quantiles.map((q, i) => ({ x: valueOf(q), p: levels[i] })), { x: valueOf(column.max), p: 1 }];
  // Approximate quantiles may step slightly outside [min, max] or back: keep x non-decreasing.
  for (let i = 1; i < points.length; i++) if (points[i].x < points[i - 1].x) points[i] = { ...points[i], x: points[i - 1].x };
  return points;
}

/** F(x): the share of values at or below x (right-continuous where several points share an x). */
export function cdfAt(points: readonly CdfPoint[], x: number): number {
  if (x < points[0].x) return 0;
  if (x >= points[points.length - 1].x) return 1;
  for (let i = points.length - 2; i >= 0; i--) {
    const a = points[i];
    const b = points[i + 1];
    if (a.x <= x && x < b.x) return a.p + ((b.p - a.p) * (x - a.x)) / (b.x - a.x);
  }
  return 1;
}

/** Kolmogorov–Smirnov distance: the largest gap between the two CDFs (0 same, 1 disjoint). */
export function ksDistance(previous: readonly CdfPoint[], current: readonly CdfPoint[]): number {
  const xs = [...previous, ...current].map((pt) => pt.x);
  let gap = 0;
  for (const x of xs) gap = Math.max(gap, Math.abs(cdfAt(previous, x) - cdfAt(current, x)));
  return gap;
}

/** Floor for an empty bin, so the logarithm stays finite (the usual PSI practice). */
const EPSILON = 1e-4;

/**
 * Population stability index over the previous drop's quantile bins (deciles: ten bins of 10%),
 * the outer bins open-ended. Rule of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major.
 */
export function populationStability(previous: readonly CdfPoint[], current: readonly CdfPoint[]): number {
  const edges = [...new Set(previous.map((pt) => pt.x))].sort((a, b) => a - b);
  const inner = edges.slice(1, -1);
  // Bin k holds values in (edge_{k-1}, edge_k]; the first starts at -inf, the last ends at +inf.
  const cuts = [-Infinity, ...inner, Infinity];
  const share = (points: readonly CdfPoint[], lo: number, hi: number) => (hi === Infinity ? 1 : cdfAt(points, hi)) - (lo === -Infinity ? 0 : cdfAt(points, lo));
  let psi = 0;
  for (let k = 1; k < cuts.length; k++) {
    const expected = Math.max(share(previous, cuts[k - 1], cuts[k]), EPSILON);
    const actual = Math.max(share(current, cuts[k - 1], cuts[k]), EPSILON);
    psi += (actual - expected) * Math.log(actual / expected);
  }
  return psi;
}
