import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFeed } from '../helpers/local-run';
import { PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

describe('a feed that names its order (orderBy)', () => {
  let project: TempProject;
  beforeEach(async () => {
    project = tempProject({
      'dropkit.yaml': PROJECT_YAML,
      'feeds/daily.yaml': dailyFeed('daily', 'orderBy: [label, id]\n'),
      // The query's own order is the reverse: orderBy wins, on every engine.
      'feeds/daily.sql': 'SELECT id, label FROM events WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id DESC\n',
    });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => project.cleanup());

  it('delivers every file in that order', async () => {
    const { outcome, store } = await runFeed(project.dir, 'daily', { slot: '2024-01-15T06:00:00Z' });
    expect(outcome.status).toBe('delivered');
    const csv = readFileSync(store.localPath(outcome.manifestKey!.replace('manifest.json', 'part-00000.csv')), 'utf8');
    expect(csv).toBe('id,label\n2,b\n3,c\n4,d\n');
  });
});
