import { join } from 'node:path';
import { eventText } from '../../lib/core/notices/event-text';
import { schemaChangeEvent } from '../../lib/core/notices/events';
import { runFeed } from '../helpers/local-run';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

describe('schema change between two real drops', () => {
  let p: TempProject;
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  it('names the column added, the column removed and each type that changed, from the manifests DuckDB wrote', async () => {
    const first = await runFeed(p.dir, 'daily', { slot: '2024-01-15T06:00:00Z', now: '2024-01-15T07:00:00Z' });
    p.write(
      'feeds/daily.sql',
      `SELECT id::BIGINT AS id, amount::DOUBLE AS amount, happened_at, 'EUR' AS currency FROM events
WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id`,
    );
    const second = await runFeed(p.dir, 'daily', { slot: '2024-01-16T06:00:00Z', now: '2024-01-16T07:00:00Z' });
    expect([first.outcome.status, second.outcome.status]).toEqual(['delivered', 'delivered']);
    const event = schemaChangeEvent(first.outcome.manifest!, second.outcome.manifest!, new Date('2024-01-16T07:00:00Z'))!;
    expect(event.schemaChange).toEqual({
      added: [{ name: 'currency', type: 'VARCHAR' }],
      removed: [{ name: 'label', type: 'VARCHAR' }],
      retyped: [
        { name: 'id', from: 'INTEGER', to: 'BIGINT' },
        { name: 'amount', from: 'DECIMAL(10,2)', to: 'DOUBLE' },
      ],
      reordered: false,
    });
    expect(eventText(event).text).toContain(
      '  - added currency (VARCHAR)\n  - removed label (VARCHAR)\n  - id: INTEGER → BIGINT\n  - amount: DECIMAL(10,2) → DOUBLE\n',
    );
  });
});
