import { join } from 'node:path';
import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { planStep } from '../../lib/core/steps/plan-step';
import { notifyStep } from '../../lib/core/steps/notify';
import { publishStep } from '../../lib/core/steps/publish';
import { formatsOf, renderFormatStep } from '../../lib/core/steps/render';
import type { RunState } from '../../lib/core/steps/run-state';
import { completeStage, compileStage } from '../../lib/core/steps/stage';
import type { StepDeps } from '../../lib/core/steps/step-deps';
import { assertPublishable, validateStep } from '../../lib/core/steps/validate';
import { loadProject } from '../../lib/project/load-project';
import { manifestProblems } from '../../lib/core/manifest-schema';
import { localDeps, readJson } from '../helpers/local-run';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

/** What a state machine does between two states: JSON out, JSON in, nothing else survives. */
function overTheWire<T>(value: T): T {
  const text = JSON.stringify(value);
  // Step Functions refuses a state larger than 256 KB.
  expect(Buffer.byteLength(text)).toBeLessThan(256 * 1024);
  return JSON.parse(text) as T;
}

describe('the steps as a state machine runs them: JSON between steps, a fresh engine per step', () => {
  let project: TempProject;
  beforeEach(async () => {
    project = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => project.cleanup());

  it('delivers the same drop as the runner, each step in its own "invocation"', async () => {
    const loaded = loadProject(project.dir);
    const base = localDeps(loaded, { now: '2024-01-15T07:00:00Z' });
    // Each step gets an engine of its own, as each Lambda invocation would.
    const withEngine = async <T>(work: (deps: StepDeps) => Promise<T>): Promise<T> => {
      const engine = await DuckDbEngine.open({ store: base.store, sources: loaded.sources, workDir: join(project.dir, 'work'), prefix: loaded.spec.prefix });
      try {
        return overTheWire(await work({ ...base, engine }));
      } finally {
        await engine.close();
      }
    };

    const planned = overTheWire(await planStep({ feed: 'daily', partner: null, slot: '2024-01-15T06:00:00Z' }, base));
    expect(planned.status).toBe('planned');
    let state = (planned as { state: RunState }).state;
    const statement = await withEngine((deps) => compileStage(state, deps));
    expect(statement.parameters.map((p) => p.name)).toEqual(['window_start', 'window_end']);
    const execution = await withEngine((deps) => deps.engine.execute(statement));
    state = await withEngine((deps) => completeStage(state, execution, deps));
    state = await withEngine((deps) => validateStep(state, deps));
    assertPublishable('daily', state.validation!);
    const files = [];
    for (const format of formatsOf(state, base)) files.push(...(await withEngine((deps) => renderFormatStep(state, format, deps))));
    state = overTheWire({ ...state, files, timings: { ...state.timings, renderedAt: '2024-01-15T07:00:00.000Z' } });
    const published = await withEngine((deps) => publishStep(state, deps));
    expect(published.pending).toEqual([]);
    const notice = overTheWire(
      await notifyStep(
        { feed: 'daily', partner: null, prefix: '', slot: state.plan.slot.id, runId: state.plan.runId, revision: 1, manifestKey: published.manifestKey },
        base,
      ),
    );
    expect(notice.status).toBe('sent');

    const manifest = await readJson(base.store, published.manifestKey);
    expect(manifestProblems(manifest)).toEqual([]);
    expect(manifest).toMatchObject({
      rowCount: 3,
      query: { engine: 'duckdb' },
      files: [
        { path: 'part-00000.csv', rows: 3 },
        { path: 'part-00000.parquet', rows: 3 },
      ],
    });
    expect(await readJson(base.store, 'daily/latest.json')).toMatchObject({ runId: state.plan.runId });
  });
});
