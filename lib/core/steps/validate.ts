import type { QueryEngine, StagedTable } from '../ports/query-engine';
import type { CheckResult, CompiledCheck, Judgement, Outcome, PreviousDrop, Severity } from '../checks/check-types';
import type { SqlDialect } from '../sql-dialect';
import type { SlotInfo } from '../manifest';
import { checkDefinition, CheckConfig } from '../checks/registry';
import { ValidationFailedError } from '../errors';
import type { ValidationStatus } from '../manifest';
import { profileExpressions, readProfile, topValueColumns, topValuesSql, withTopValues, Profile } from '../profile/profile';
import { previousDrop } from './run-plan';
import { need, RunState } from './run-state';
import type { StepDeps } from './step-deps';

export interface ValidationReport {
  readonly status: ValidationStatus;
  readonly checks: readonly CheckResult[];
  /** The drop's column profile; absent when it could not be computed (the run goes on without it). */
  readonly profile?: Profile;
}

export interface ValidationContext {
  readonly slot: SlotInfo;
  readonly previous: PreviousDrop | null;
  /** Columns declared `pii: true`: profiled without their values. */
  readonly pii?: ReadonlySet<string>;
}

/**
 * Compiles the feed's checks to SQL over the staged table and runs them there (push-down).
 * Aggregate checks and the drop's profile share one scan; if that shared statement fails, each
 * runs alone so the one that cannot run is recorded as `error` and the others still get their values.
 */
export async function validateStaged(
  checks: readonly CheckConfig[],
  staged: StagedTable,
  engine: QueryEngine,
  context: ValidationContext,
): Promise<ValidationReport> {
  const target = { table: staged.table, columns: staged.columns, dialect: engine.dialect, slot: context.slot, previous: context.previous };
  const compiled: CompiledCheck[] = checks.flatMap((config) => {
    const definition = checkDefinition(config.type);
    if (!definition) {
      return [
        {
          kind: 'invalid' as const,
          type: config.type,
          name: config.name ?? config.type,
          severity: config.severity,
          error: `unknown check type ${config.type}`,
        },
      ];
    }
    return definition.compile(definition.schema.parse(config), target);
  });

  const results = new Map<CompiledCheck, CheckResult>();
  const aggregates = compiled.filter((c) => c.kind === 'aggregate');
  // An engine that profiles more cheaply on its own (DuckDB: file metadata and a sample) keeps the
  // profile out of the checks' scan, which then reads only the columns the checks need. If it
  // fails, the scan computes the profile as for any engine.
  const own = engine.profile ? await engine.profile(staged).catch(() => undefined) : undefined;
  const profiling = own ? {} : profileExpressions(staged.columns, target.dialect);
  const scan = aggregates.length || !own ? await runAggregates(aggregates, staged, engine, profiling).catch(asError) : undefined;
  const shared = scan instanceof Error ? undefined : scan;
  // If the shared scan failed, the profile is tried alone like each check (unless it was alone already).
  const profileRow = own ?? shared ?? (aggregates.length ? await runAggregates([], staged, engine, profiling).catch(asError) : scan);
  const profiled = await profileOf(profileRow, staged, engine, target, context);
  if (aggregates.length) {
    for (const [i, check] of aggregates.entries()) {
      if (shared)
        results.set(
          check,
          judged(check, () => check.judge(pick(shared, i, check.expressions))),
        );
      else results.set(check, await runAlone(check, staged, engine));
    }
  }
  for (const check of compiled) {
    if (check.kind === 'query') {
      results.set(
        check,
        await engine.query(check.sql, staged).then(
          (rows) => judged(check, () => check.judge(rows)),
          (error) => errored(check, error),
        ),
      );
    } else if (check.kind === 'static') {
      results.set(
        check,
        judged(check, () => check.judge()),
      );
    } else if (check.kind === 'profile') {
      results.set(check, profiled.profile ? judged(check, () => check.judge(profiled.profile!)) : errored(check, `no profile of this drop: ${profiled.error}`));
    } else if (check.kind === 'invalid') {
      results.set(check, errored(check, check.error));
    }
  }
  const ordered = compiled.map((c) => results.get(c)!);
  const report = { status: overallStatus(ordered), checks: ordered };
  return profiled.profile ? { ...report, profile: profiled.profile } : report;
}

/** The profile from the scan's row, plus top values from one bounded grouped query (skipped if that fails). */
const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

async function profileOf(
  row: Record<string, unknown> | Error | undefined,
  staged: StagedTable,
  engine: QueryEngine,
  target: { table: string; dialect: SqlDialect },
  context: ValidationContext,
): Promise<{ profile?: Profile; error?: string }> {
  if (!row || row instanceof Error) return { error: row?.message ?? 'the profile query returned no row' };
  const profile = readProfile(row, staged.columns);
  const names = topValueColumns(profile, { pii: context.pii });
  if (!names.length) return { profile };
  const rows = await engine.query(topValuesSql(target.table, names, target.dialect), staged).catch(() => undefined);
  return { profile: rows ? withTopValues(profile, names, rows) : profile };
}

/** Throws when the report blocks publishing: a fail, or an error of an error-severity check. */
export function assertPublishable(feed: string, report: ValidationReport): void {
  if (report.status !== 'fail') return;
  const blocking = report.checks.filter(blocks);
  throw new ValidationFailedError(
    `${feed}: ${blocking.length} check${blocking.length === 1 ? '' : 's'} failed, nothing was published:\n` +
      blocking.map((c) => `  - ${c.name} [${c.outcome}]: ${c.message}`).join('\n'),
  );
}

function blocks(c: CheckResult): boolean {
  return c.severity === 'error' && (c.outcome === 'fail' || c.outcome === 'error');
}

function overallStatus(results: readonly CheckResult[]): ValidationStatus {
  if (results.some(blocks)) return 'fail';
  if (results.some((c) => c.outcome !== 'pass')) return 'warn';
  return 'pass';
}

type AggregateCheck = Extract<CompiledCheck, { kind: 'aggregate' }>;

function aliasOf(index: number, key: string): string {
  return `c${index}_${key}`;
}

async function runAggregates(checks: AggregateCheck[], staged: StagedTable, engine: QueryEngine, extra: Readonly<Record<string, string>> = {}) {
  const select = [
    ...checks.flatMap((c, i) => Object.entries(c.expressions).map(([k, expr]) => `${expr} AS "${aliasOf(i, k)}"`)),
    ...Object.entries(extra).map(([alias, expr]) => `${expr} AS "${alias}"`),
  ];
  const [row] = await engine.query(`SELECT ${select.join(', ')} FROM ${staged.table}`, staged);
  return row;
}

function pick(row: Record<string, unknown>, index: number, expressions: Readonly<Record<string, string>>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(expressions).map((k) => [k, row[aliasOf(index, k)]]));
}

async function runAlone(check: AggregateCheck, staged: StagedTable, engine: QueryEngine): Promise<CheckResult> {
  try {
    const row = await runAggregates([check], staged, engine);
    return judged(check, () => check.judge(pick(row, 0, check.expressions)));
  } catch (error) {
    return errored(check, error);
  }
}

function judged(check: CompiledCheck, judge: () => Judgement): CheckResult {
  let j: Judgement;
  try {
    j = judge();
  } catch (error) {
    return errored(check, error);
  }
  const result: CheckResult = {
    name: check.name,
    type: check.type,
    severity: check.severity,
    outcome: outcomeOf(j.passed, check.severity),
    observed: j.observed,
    threshold: j.threshold,
    message: j.message,
  };
  return j.sample?.length ? { ...result, sample: j.sample } : result;
}

function outcomeOf(passed: boolean, severity: Severity): Outcome {
  if (passed) return 'pass';
  return severity === 'error' ? 'fail' : 'warn';
}

function errored(check: CompiledCheck, error: unknown): CheckResult {
  const message = error instanceof Error ? error.message : String(error);
  return {
    name: check.name,
    type: check.type,
    severity: check.severity,
    outcome: 'error',
    observed: null,
    threshold: null,
    message: `could not run: ${message}`,
  };
}

/**
 * The validate step: every check of the feed over the staged rows. It never throws for a failing
 * check: the report travels on, and `assertPublishable` (or a state machine's Choice on
 * `validation.status`) stops the run.
 */
export async function validateStep(state: RunState, deps: Pick<StepDeps, 'feeds' | 'engine' | 'store' | 'clock'>): Promise<RunState> {
  const staged = need(state, 'staged', 'validate');
  const { plan } = state;
  const feed = deps.feeds.get(plan.feed);
  const previous = await previousDrop(deps.store, { prefix: plan.prefix, feed: plan.feed, partner: plan.partner }, plan.slot.id);
  const pii = new Set(Object.entries(feed.spec.columns ?? {}).flatMap(([name, c]) => (c.pii ? [name] : [])));
  const validation = await validateStaged(feed.spec.checks as CheckConfig[], staged, deps.engine, { slot: plan.slot, previous, pii });
  return { ...state, validation, timings: { ...state.timings, validatedAt: deps.clock.now().toISOString() } };
}
