import { join } from 'node:path';
import { parseRunRecord, RunRecord } from '../../lib/core/run-record';
import { RUN_STATUSES, STEP_GRAPH } from '../../lib/core/graph/step-graph';
import { exampleStack } from '../cdk/cdk-app';
import { allStates, deployedDefinition } from '../cdk/state-machine-definition';
import { listKeys, readJson, runFeed } from '../helpers/local-run';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, writeParquet } from '../helpers/temp-project';

describe('one spelling of a run status', () => {
  it('records a failed validation as validation-failed, the status the CLI reports', async () => {
    const project = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    try {
      await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect(true));
      const { outcome, store } = await runFeed(project.dir, 'daily', { slot: '2024-01-16T06:00:00Z', now: '2024-01-16T07:00:00Z' });
      expect(outcome.status).toBe('validation-failed');
      const [key] = await listKeys(store, '_runs/daily/');
      expect((await readJson<RunRecord>(store, key)).status).toBe(outcome.status);
    } finally {
      project.cleanup();
    }
  });

  it('reads a record written with the old spelling (validation_failed) as validation-failed', () => {
    const T = '2024-01-15T07:00:00.000Z';
    const stored = (status: string) =>
      JSON.stringify({
        ...{ feed: 'daily', partner: null, runId: 'r', revision: 1, slot: '20240115T060000Z', scheduledFor: T, attemptId: 'a', status, step: 'validate' },
        ...{ startedAt: T, finishedAt: T, error: null, validation: null, manifest: null, rowCount: null, noticeSent: false, notifications: [], pending: [] },
      });
    expect(parseRunRecord(stored('validation_failed'), '_runs/r.json').status).toBe('validation-failed');
    expect(parseRunRecord(stored('failed'), '_runs/r.json').status).toBe('failed');
  });

  it("has the state machine branch on failRun's outcomes exactly as the graph spells them", () => {
    const choice = allStates(deployedDefinition(exampleStack()))['RolledBack?'];
    const values = choice.Choices.map((c: { StringEquals: string }) => c.StringEquals).sort();
    expect(values).toEqual(Object.keys(STEP_GRAPH.failRun.on).sort());
    for (const v of values) if (v !== 'delivered') expect(RUN_STATUSES).toContain(v);
  });
});
