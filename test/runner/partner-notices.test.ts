import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFeed } from '../helpers/local-run';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

const SLOT_15 = '2024-01-15T06:00:00Z';
const SLOT_16 = '2024-01-16T06:00:00Z';

describe('notices partners can act on, sent by the notify step', () => {
  let project: TempProject;
  const outbox = () =>
    readFileSync(join(project.dir, 'out', '_outbox', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; id: string; schemaChange?: unknown; update?: { supersedes: { runId: string } } });
  beforeEach(async () => {
    project = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => project.cleanup());

  it('says which columns changed when a drop differs from the one before, and stays quiet when none did', async () => {
    await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    expect(outbox().map((e) => e.type)).toEqual(['drop.delivered']);
    project.write(
      'feeds/daily.sql',
      DAILY_SQL.replace('SELECT id, label, amount,', 'SELECT id, label, CAST(amount AS DOUBLE) AS amount, upper(label) AS code,'),
    );
    const second = await runFeed(project.dir, 'daily', { slot: SLOT_16 });
    const notice = outbox().find((e) => e.type === 'schema.change');
    expect(notice).toMatchObject({ id: `${second.outcome.runId}.schema-change` });
    expect(JSON.stringify(notice!.schemaChange)).toMatch(/code/);
    expect(JSON.stringify(notice!.schemaChange)).toMatch(/DOUBLE/);
  });

  it('tells partners a rerun replaced a drop (data.update), naming the run it supersedes', async () => {
    const first = await runFeed(project.dir, 'daily', { slot: SLOT_15 });
    const rerun = await runFeed(project.dir, 'daily', { slot: SLOT_15, rerun: true });
    const update = outbox().find((e) => e.type === 'data.update');
    expect(update).toMatchObject({ id: `${rerun.outcome.runId}.data-update`, update: { supersedes: { runId: first.outcome.runId } } });
    expect(outbox().filter((e) => e.type === 'schema.change')).toEqual([]);
  });
});
