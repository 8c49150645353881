import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbEngine, DuckDbEngineOptions } from '../../lib/adapters/duckdb/duckdb-engine';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { stageWith } from '../../lib/core/steps/stage';
import type { QueryEngine, QueryParameter, StagedTable } from '../../lib/core/ports/query-engine';

/** Stages SQL the way the stage step does, with a fixed attempt: `_staging/<runId>/a1/`. */
export function stage(engine: QueryEngine, request: { runId: string; sql: string; parameters?: QueryParameter[]; attemptId?: string }): Promise<StagedTable> {
  const attemptId = request.attemptId ?? 'a1';
  return stageWith(engine, {
    runId: request.runId,
    attemptId,
    stagingPrefix: `_staging/${request.runId}/${attemptId}/`,
    sql: request.sql,
    parameters: request.parameters ?? [],
  });
}

/** A DuckDB engine over a fresh local store in a temp folder; `cleanup` closes it and removes the folder. */
export async function openTestEngine(options: Partial<DuckDbEngineOptions> = {}) {
  const root = await mkdtemp(join(tmpdir(), 'dropkit-engine-'));
  const store = options.store instanceof LocalStore ? options.store : new LocalStore(join(root, 'store'));
  const engine = await DuckDbEngine.open({ workDir: join(root, 'work'), ...options, store });
  return {
    engine,
    store,
    root,
    async cleanup() {
      await engine.close().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

export async function collectText(engine: QueryEngine, staged: StagedTable): Promise<(string | null)[][]> {
  const rows: (string | null)[][] = [];
  for await (const batch of engine.streamText(staged)) rows.push(...batch);
  return rows;
}
