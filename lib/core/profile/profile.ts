import type { ColumnSchema } from '../ports/query-engine';
import { readTimestamp, SqlDialect } from '../checks/dialect';
import { typeFamily, TypeFamily } from '../checks/schema';
import { toNumber } from '../sql-text';

/**
 * The profile of a drop: what each column looks like, computed from aggregate expressions that
 * join the checks' single scan over the staged table (validate.ts), plus one small grouped query
 * for the top values of low-cardinality columns. It goes into the manifest and is what `drift`
 * checks compare between drops.
 */

/** Deciles: ten equal bins, the usual basis of a population stability index. */
export const QUANTILE_LEVELS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Columns with at most this many distinct values get their full value list with counts. */
export const MAX_TOP_VALUES = 20;

/** Values longer than this are cut in the top-values list (the manifest stays small). */
const MAX_VALUE_CHARS = 100;

/**
 * Rows (about) an engine that profiles from a sample (`QueryEngine.profile`) uses for the mean,
 * the deciles, the string lengths and the distinct estimate; a drop this small or smaller is read whole.
 */
export const PROFILE_SAMPLE_ROWS = 65_536;

/** The sample reads at most this many row groups of a columnar file: its cost is set by the row groups it touches. */
const SAMPLE_GROUPS = 16;

export interface SamplePlan {
  /** Indexes of the row groups the sample reads, in file order. */
  readonly groups: readonly number[];
  /** The share of their rows it keeps, chosen by a hash of each row's position (1: every row). */
  readonly share: number;
}

/**
 * Which rows of a columnar file make its profile sample, from the row counts of its row groups:
 * every row when there are at most PROFILE_SAMPLE_ROWS; else SAMPLE_GROUPS row groups evenly
 * spaced through the file (all of them if fewer), of whose rows about PROFILE_SAMPLE_ROWS in all
 * are kept, picked by a hash of their position. Chosen by position, so the same rows give the same
 * sample (and the same profile) on every run; random within a row group, so values that repeat
 * in a pattern by position do not fool the distinct estimate.
 */
export function samplePlan(groupRows: readonly number[]): SamplePlan {
  const all = groupRows.map((_, i) => i);
  const total = groupRows.reduce((n, r) => n + r, 0);
  if (total <= PROFILE_SAMPLE_ROWS) return { groups: all, share: 1 };
  const groups =
    groupRows.length <= SAMPLE_GROUPS ? all : Array.from({ length: SAMPLE_GROUPS }, (_, k) => Math.floor(((k + 0.5) * groupRows.length) / SAMPLE_GROUPS));
  const rows = groups.reduce((n, g) => n + groupRows[g], 0);
  return { groups, share: Math.min(1, PROFILE_SAMPLE_ROWS / rows) };
}

export interface SampleDistinct {
  /** Non-NULL values of the column in the whole drop. */
  readonly population: number;
  /** Non-NULL values of the column in the sample. */
  readonly sampled: number;
  /** Distinct values among them. */
  readonly distinct: number;
  /** Values seen exactly once in the sample. */
  readonly once: number;
  /** Values seen exactly twice in the sample. */
  readonly twice: number;
}

/**
 * The number of distinct values of a column from a sample of its rows: the sample's distinct
 * values plus an estimate of those it missed, Chao1 for sampling without replacement (Chao & Lin,
 * Statistica Sinica 2012): f1² / (2·f2·n/(n−1) + f1·q/(1−q)), with q = n / N. Exact when the
 * sample is the whole column, when every sampled value repeats (few values) and when none does (a
 * key: N). Between those it is a lower-bound estimate: within about 10% when the values are spread
 * through the drop, low when equal values sit together (a column the file is ordered by).
 */
export function estimateDistinct(s: SampleDistinct): number {
  if (s.sampled === 0) return 0;
  if (s.sampled >= s.population) return s.distinct;
  const q = s.sampled / s.population;
  const below = 2 * s.twice * (s.sampled / Math.max(1, s.sampled - 1)) + (s.once * q) / (1 - q);
  const missed = below === 0 ? 0 : (s.once * s.once) / below;
  return Math.round(Math.min(s.population, s.distinct + missed));
}

export type ProfileKind = 'number' | 'time' | 'string' | 'boolean' | 'other';

export interface TopValue {
  /** The value as text (NULL is not listed: see nullFraction). */
  readonly value: string;
  readonly count: number;
}

export interface ColumnProfile {
  readonly name: string;
  readonly kind: ProfileKind;
  readonly nullFraction: number;
  /**
   * Exact when the column's full value list (`top`) is there; else an estimate: HyperLogLog over
   * every value (engines that profile in the checks' scan: Athena), or from the profile sample
   * (DuckDB: `estimateDistinct`).
   */
  readonly distinct: number;
  /** Numbers as numbers, times as ISO-8601 UTC instants; null when every value is NULL. */
  readonly min?: number | string | null;
  readonly max?: number | string | null;
  readonly mean?: number | string | null;
  /** Approximate values at `Profile.quantileLevels`, like min/max. */
  readonly quantiles?: readonly (number | string)[] | null;
  /** Length range of strings, in characters. */
  readonly length?: { readonly min: number; readonly max: number } | null;
  /** Every distinct non-NULL value with its count, most frequent first, when there are few (and the column is not PII). */
  readonly top?: readonly TopValue[];
}

export interface Profile {
  readonly rows: number;
  readonly quantileLevels: readonly number[];
  readonly columns: readonly ColumnProfile[];
}

export interface ProfileOptions {
  /** Columns whose values must not appear (feed `columns.<name>.pii`): no top values, no min/max text. */
  readonly pii?: ReadonlySet<string>;
}

/** What the profile shows of a column of this (engine) type. */
export function kindOf(type: string): ProfileKind {
  const family: TypeFamily = typeFamily(type);
  return family === 'numeric' ? 'number' : family === 'temporal' ? 'time' : family;
}

/** The output alias of one profile aggregate of column `index` (what `readProfile` reads). */
export const alias = (index: number, key: string) => `p${index}_${key}`;

/**
 * The profile's single-row aggregate expressions, keyed by output alias (disjoint from the checks'
 * `c<i>_…` aliases), to be selected in the same statement as the aggregate checks.
 */
export function profileExpressions(columns: readonly ColumnSchema[], dialect: SqlDialect): Record<string, string> {
  const out: Record<string, string> = { p_rows: 'count(*)' };
  columns.forEach((column, i) => {
    const col = dialect.quoteIdent(column.name);
    const kind = kindOf(column.type);
    out[alias(i, 'nonnull')] = `count(${col})`;
    out[alias(i, 'distinct')] = dialect.approxDistinct(col);
    if (kind === 'number' || kind === 'time') {
      // Min and max on the column itself (cheaper than on a converted value); the mean and
      // quantiles of times over epoch seconds.
      const value = kind === 'number' ? `CAST(${col} AS DOUBLE)` : dialect.epochSeconds(col, column.type);
      out[alias(i, 'min')] = `min(${col})`;
      out[alias(i, 'max')] = `max(${col})`;
      out[alias(i, 'mean')] = `avg(${kind === 'number' ? col : value})`;
      out[alias(i, 'quantiles')] = dialect.quantiles(value, QUANTILE_LEVELS);
    } else if (kind === 'string') {
      out[alias(i, 'minlen')] = `min(${dialect.length(col)})`;
      out[alias(i, 'maxlen')] = `max(${dialect.length(col)})`;
    }
  });
  return out;
}

const isoOf = (seconds: number | null) => (seconds === null ? null : new Date(Math.round(seconds * 1000)).toISOString());

function numberList(value: unknown): number[] | null {
  if (value === null || value === undefined) return null;
  const items = Array.isArray(value)
    ? value
    : String(value)
        .replace(/^\[|\]$/g, '')
        .split(',');
  const numbers = items.map((v) => toNumber(typeof v === 'string' ? v.trim() : v));
  return numbers.every((n): n is number => n !== null) && numbers.length ? numbers : null;
}

/** The profile from the shared scan's row (values under the aliases of `profileExpressions`). */
export function readProfile(row: Record<string, unknown>, columns: readonly ColumnSchema[]): Profile {
  const rows = toNumber(row.p_rows) ?? 0;
  return {
    rows,
    quantileLevels: QUANTILE_LEVELS,
    columns: columns.map((column, i) => {
      const get = (key: string) => toNumber(row[alias(i, key)]);
      const kind = kindOf(column.type);
      const nonNull = get('nonnull') ?? 0;
      const base = {
        name: column.name,
        kind,
        nullFraction: rows === 0 ? 0 : round((rows - nonNull) / rows, 6),
        distinct: Math.min(get('distinct') ?? 0, nonNull),
      };
      if (kind === 'number' || kind === 'time') {
        const show = kind === 'number' ? (n: number | null) => n : isoOf;
        const extreme = (key: string) => (kind === 'number' ? get(key) : readTimestamp(row[alias(i, key)]));
        const quantiles = numberList(row[alias(i, 'quantiles')]);
        const mean = get('mean');
        return {
          ...base,
          min: extreme('min'),
          max: extreme('max'),
          mean: show(mean === null ? null : significant(mean)),
          quantiles: quantiles && quantiles.map((q) => show(significant(q))!),
        };
      }
      if (kind === 'string') {
        const [min, max] = [get('minlen'), get('maxlen')];
        return { ...base, length: min === null || max === null ? null : { min, max } };
      }
      return base;
    }),
  };
}

/** 12 significant digits: a parallel sum's last bits depend on the threads' order, and the profile must not. */
const significant = (n: number) => Number(n.toPrecision(12));

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Columns that get top values: few distinct values (the estimate is near exact there) and not PII. */
export function topValueColumns(profile: Profile, options: ProfileOptions = {}): string[] {
  return profile.columns.filter((c) => c.distinct > 0 && c.distinct <= MAX_TOP_VALUES && !options.pii?.has(c.name)).map((c) => c.name);
}

/** Rows read back per column: one more than the cap shows that a list would be cut. */
const PER_COLUMN_LIMIT = MAX_TOP_VALUES + 1;

/**
 * One statement for every low-cardinality column: a UNION ALL of one GROUP BY per column, each
 * bounded by its own LIMIT. On columnar staging (Parquet, DuckDB) each branch reads only its own
 * column, so together they read those columns once. (GROUPING SETS would say it in one GROUP BY,
 * but the Trino grammar the tests parse Athena's SQL with does not know it.)
 */
export function topValuesSql(table: string, names: readonly string[], dialect: SqlDialect): string {
  return names
    .map((name, i) => {
      const col = dialect.quoteIdent(name);
      return `SELECT * FROM (SELECT ${i} AS "k", CAST(${col} AS VARCHAR) AS "v", count(*) AS "n" FROM ${table} WHERE ${col} IS NOT NULL GROUP BY ${col} LIMIT ${PER_COLUMN_LIMIT}) AS "t${i}"`;
    })
    .join(' UNION ALL ');
}

/** Adds the grouped query's rows to the profile: each column's full value list when it has few. */
export function withTopValues(profile: Profile, names: readonly string[], rows: readonly Record<string, unknown>[]): Profile {
  const found = new Map<string, TopValue[]>(names.map((n) => [n, []]));
  for (const row of rows) {
    const name = names[toNumber(row.k) ?? -1];
    if (name === undefined || row.v === null || row.v === undefined) continue;
    found.get(name)!.push({ value: String(row.v).slice(0, MAX_VALUE_CHARS), count: toNumber(row.n) ?? 0 });
  }
  const columns: ColumnProfile[] = profile.columns.map((c) => {
    const top = found.get(c.name);
    if (!top || !top.length) return c;
    // More values than the cap means the estimate was low: a partial list would fake vanished categories.
    if (top.length > MAX_TOP_VALUES) return { ...c, distinct: Math.max(c.distinct, top.length) };
    // The full list: its length is the exact distinct count.
    return { ...c, distinct: top.length, top: top.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value)) };
  });
  // The profile travels in the run state (Step Functions: 256 KB in all): the longest lists go first.
  let size = JSON.stringify(columns).length;
  while (size > MAX_PROFILE_CHARS) {
    const widest = columns.reduce((w, c, i) => (JSON.stringify(c.top ?? []).length > JSON.stringify(columns[w].top ?? []).length ? i : w), 0);
    if (!columns[widest].top) break;
    const { top, ...rest } = columns[widest];
    size -= JSON.stringify(top).length;
    columns[widest] = rest;
  }
  return { ...profile, columns };
}

/** Bound on a profile's JSON (its value lists are dropped, longest first, to stay under it). */
export const MAX_PROFILE_CHARS = 64_000;
