import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropkit } from '../helpers/cli';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

const SLOT = ['--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z'];

describe('dropkit notify and dropkit repair', () => {
  let p: TempProject;
  const out = (...parts: string[]) => join(p.dir, 'out', ...parts);
  const events = () =>
    existsSync(out('_outbox', 'events.jsonl'))
      ? readFileSync(out('_outbox', 'events.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { type: string; id: string })
      : [];
  const deliveredNotices = () => events().filter((e) => e.type === 'drop.delivered');

  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  async function deliver() {
    const r = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--json']);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as { runId: string; manifestKey: string };
  }

  it('notify sends a delivered run its notice again, with the same idempotency key', async () => {
    const run = await deliver();
    expect(deliveredNotices().map((e) => e.id)).toEqual([run.runId]);
    const r = await dropkit(['notify', 'daily', '--run', run.runId, '--project', p.dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'sent', runId: run.runId });
    expect(deliveredNotices().map((e) => e.id)).toEqual([run.runId, run.runId]);
  });

  it('notify names an unknown run and exits 2', async () => {
    await deliver();
    const r = await dropkit(['notify', 'daily', '--run', 'nope', '--project', p.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no run nope of daily; dropkit history daily lists its runs/);
  });

  it('repair finishes a run that died after its manifest: pointer, record and the notice it never sent', async () => {
    const run = await deliver();
    // What a crash right after the manifest leaves: no pointer, a running record, no notice (nor its intent).
    const recordPath = out('_runs', 'daily', 'slot=20240115T060000Z', `${run.runId}.json`);
    const record = JSON.parse(readFileSync(recordPath, 'utf8'));
    writeFileSync(recordPath, JSON.stringify({ ...record, status: 'running', step: 'publish', noticeSent: false, notice: undefined, notifications: [] }));
    rmSync(out('daily', 'latest.json'));
    rmSync(out('_outbox'), { recursive: true });

    const r = await dropkit(['repair', '--project', p.dir, '--json', '--now', '2024-01-15T08:00:00Z']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).repaired).toEqual([expect.objectContaining({ runId: run.runId, action: 'rolled-forward', notice: 'sent' })]);
    expect(JSON.parse(readFileSync(out('daily', 'latest.json'), 'utf8')).runId).toBe(run.runId);
    expect(JSON.parse(readFileSync(recordPath, 'utf8'))).toMatchObject({ status: 'delivered', noticeSent: true });
    expect(deliveredNotices().map((e) => e.id)).toEqual([run.runId]);

    // A second repair has nothing to do and sends nothing.
    const again = await dropkit(['repair', '--project', p.dir, '--json']);
    expect(JSON.parse(again.stdout).repaired).toEqual([]);
    expect(deliveredNotices()).toHaveLength(1);
  });

  it('repair records a run that died before its manifest as failed and removes its leftovers', async () => {
    const run = await deliver();
    // The same slot rerun, dead in render: a running record, staging, data files without a manifest.
    const rerun = await dropkit(['plan', 'daily', '--project', p.dir, ...SLOT, '--rerun', '--json']);
    const plan = JSON.parse(rerun.stdout).plan;
    mkdirSync(out('_staging', plan.runId, 'dead1'), { recursive: true });
    writeFileSync(out('_staging', plan.runId, 'dead1', 'staged.parquet'), 'x');
    mkdirSync(out(plan.keys.drop), { recursive: true });
    writeFileSync(out(plan.keys.drop, 'part-00000.csv'), 'half');
    const recordPath = out(plan.keys.runRecord);
    mkdirSync(join(recordPath, '..'), { recursive: true });
    writeFileSync(
      recordPath,
      JSON.stringify({
        feed: 'daily',
        partner: null,
        runId: plan.runId,
        revision: 2,
        slot: plan.slot.id,
        scheduledFor: plan.slot.scheduledFor,
        attemptId: 'dead1',
        status: 'running',
        step: 'render',
        startedAt: '2024-01-15T07:00:00Z',
        finishedAt: null,
        error: null,
        validation: null,
        manifest: null,
        rowCount: null,
        noticeSent: false,
        notifications: [],
        pending: [],
      }),
    );

    const r = await dropkit(['repair', 'daily', '--project', p.dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).repaired).toEqual([expect.objectContaining({ runId: plan.runId, action: 'abandoned' })]);
    expect(JSON.parse(readFileSync(recordPath, 'utf8'))).toMatchObject({ status: 'failed', error: { name: 'AbandonedRun' } });
    expect(existsSync(out('_staging', plan.runId))).toBe(false);
    expect(existsSync(out(plan.keys.drop))).toBe(false);
    // The delivered revision is untouched.
    expect(existsSync(out(run.manifestKey))).toBe(true);
  });
});
