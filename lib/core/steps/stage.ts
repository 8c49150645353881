import type { QueryEngine, StagedTable } from '../../ports/query-engine';
import type { FeedDefinition } from '../feed/feed-definition';
import type { RunPlan } from './plan';

/** Runs the feed query once into a staging table; every later step reads only that table. */
export async function stageRun(plan: RunPlan, feed: FeedDefinition, engine: QueryEngine): Promise<StagedTable> {
  return engine.stage({ runId: plan.runId, sql: feed.sql[engine.name], parameters: plan.parameters });
}
