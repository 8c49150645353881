import type { Execution, StageRequest, StagedTable, Statement } from '../ports/query-engine';
import { ConfigError } from '../errors';
import type { FeedDefinition } from '../feed/feed-definition';
import { sha256Hex } from '../hash';
import type { RunState } from './run-state';
import type { StepDeps } from './step-deps';

/** The stage request of a run attempt: the feed SQL for this engine with the run's parameters. */
export function stageRequest(state: RunState, deps: Pick<StepDeps, 'feeds' | 'engine'>): StageRequest {
  const feed = deps.feeds.get(state.plan.feed);
  return {
    runId: state.plan.runId,
    attemptId: state.attemptId,
    stagingPrefix: state.stagingPrefix,
    sql: feedSqlFor(feed, deps.engine.dialect.name),
    parameters: state.plan.parameters,
    ...(feed.spec.orderBy ? { orderBy: feed.spec.orderBy } : {}),
  };
}

/** The feed's SQL for the engine of this name: the engine's dialect says which of the feed's SQL texts it reads. */
export function feedSqlFor(feed: FeedDefinition, engine: string): string {
  const sql = Object.hasOwn(feed.sql, engine) ? feed.sql[engine] : undefined;
  if (sql !== undefined) return sql;
  const known = Object.keys(feed.sql).join(', ');
  throw new ConfigError([
    {
      file: feed.file,
      path: 'query',
      message: `has no SQL for the ${engine} engine (it has SQL for ${known || 'no engine'})`,
      value: engine,
      fix: `set query.${engine} or query.sql`,
    },
  ]);
}

/** The stage step split in two, for a state machine that runs the statement itself (Athena `.sync`). */
export async function compileStage(state: RunState, deps: Pick<StepDeps, 'feeds' | 'engine'>): Promise<Statement> {
  return deps.engine.compileStage(stageRequest(state, deps));
}

/** Records what a finished stage statement produced. */
export async function completeStage(state: RunState, execution: Execution, deps: Pick<StepDeps, 'feeds' | 'engine' | 'clock'>): Promise<RunState> {
  const request = stageRequest(state, deps);
  const staged = await deps.engine.describeStage(request, execution);
  return {
    ...state,
    staged,
    query: { engine: deps.engine.dialect.name, sqlSha256: sha256Hex(request.sql) },
    timings: { ...state.timings, stagedAt: deps.clock.now().toISOString() },
  };
}

/** Runs the feed query once into staging; every later step reads only what it staged. */
export async function stageStep(state: RunState, deps: Pick<StepDeps, 'feeds' | 'engine' | 'clock'>): Promise<RunState> {
  const statement = await compileStage(state, deps);
  const execution = await deps.engine.execute(statement);
  return completeStage(state, execution, deps);
}

/** Stages a request on an engine in one go: compile, run, describe. */
export async function stageWith(engine: Pick<StepDeps['engine'], 'compileStage' | 'execute' | 'describeStage'>, request: StageRequest): Promise<StagedTable> {
  return engine.describeStage(request, await engine.execute(await engine.compileStage(request)));
}
