import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, dropkit } from '../helpers/cli';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

const outbox = (p: TempProject) =>
  readFileSync(join(p.dir, 'out', '_outbox', 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('what partners are told is enough to act on', () => {
  let p: TempProject;
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
  });
  beforeEach(async () => {
    const feed = dailyFeed().replace('deliverWithin: PT2H', 'deliverWithin: PT2H\n  warnAfter: PT1H\n  grace: PT30M');
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': feed, 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  it('a replacement drop names what it supersedes at top level, and data.update carries the new links', async () => {
    const at = ['--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z'];
    expect((await dropkit(['run', 'daily', '--project', p.dir, ...at])).code).toBe(0);
    expect((await dropkit(['run', 'daily', '--project', p.dir, ...at, '--rerun'])).code).toBe(0);
    const [first, second, update] = outbox(p);
    expect([first.type, first.supersedes]).toEqual(['drop.delivered', null]);
    expect([second.type, second.revision, second.supersedes]).toEqual(['drop.delivered', 2, { runId: first.runId, revision: 1 }]);
    expect(update.type).toBe('data.update');
    expect(update.supersedes).toEqual({ runId: first.runId, revision: 1 });
    expect(update.manifest).toEqual(second.manifest);
    expect(update.files.map((f: { path: string; link: { url: string } }) => [f.path, f.link.url])).toEqual(
      second.files.map((f: { path: string; link: { url: string } }) => [f.path, f.link.url]),
    );
  });

  it('data.delay names the owner and an ETA, and no run when none was recorded', async () => {
    const atRisk = await dropkit(['sla', '--project', p.dir, '--at', '2024-01-16T07:30:00Z', '--look-back', 'PT2H']);
    expect(atRisk.code).toBe(4);
    const delay = outbox(p).find((e) => e.type === 'data.delay');
    expect([delay.runId, delay.revision]).toEqual([null, null]);
    expect(delay.delay).toMatchObject({ phase: 'at_risk', owner: 'tests@example.com', eta: '2024-01-16T08:00:00.000Z' });
    await dropkit(['sla', '--project', p.dir, '--at', '2024-01-16T09:00:00Z', '--look-back', 'PT3H']);
    const missed = outbox(p).filter((e) => e.type === 'data.delay')[1];
    expect(missed.delay).toMatchObject({ phase: 'missed', owner: 'tests@example.com', eta: null });
  });
});
