import { join } from 'node:path';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';
import { cli } from '../helpers/in-process-cli';

describe('changing a feed schedule does not orphan its delivery record', () => {
  let p: TempProject;
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    for (const day of ['14', '15']) {
      const r = await cli(['run', 'daily', '--project', p.dir, '--slot', `2024-01-${day}T06:00:00Z`, '--now', `2024-01-${day}T07:00:00Z`, '--json']);
      expect(r.code).toBe(0);
    }
    p.write('feeds/daily.yaml', dailyFeed().replace('"0 6 * * *"', '"0 7 * * *"').replace('schedule:', 'start: "2024-01-16"\nschedule:'));
  });
  afterEach(() => p.cleanup());

  it('check warns, naming the old and new schedule and the last drop', async () => {
    const r = await cli(['check', '--project', p.dir, '--now', '2024-01-16T12:00:00Z']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '  WARN      feeds/daily.yaml: schedule changed from "0 6 * * *" in UTC (the latest drop, slot 20240115T060000Z) to "0 7 * * *" in UTC.',
    );
  });

  it('history --slots keeps the slots delivered under the old schedule', async () => {
    const r = await cli([
      'history',
      'daily',
      '--project',
      p.dir,
      '--from',
      '2024-01-14',
      '--to',
      '2024-01-16T12:00:00Z',
      '--now',
      '2024-01-16T12:00:00Z',
      '--json',
    ]);
    const rows = JSON.parse(r.stdout).slots.map((s: { slot: string; state: string; detail: string }) => `${s.slot} ${s.state} ${s.detail}`);
    expect(rows).toEqual([
      '20240116T070000Z MISSED not delivered: due by 2024-01-16T09:00:00.000Z, missed since 2024-01-16T09:00:00.000Z; no run is recorded',
      '20240115T060000Z MET delivered on time (an earlier schedule: cron "0 6 * * *" in UTC)',
      '20240114T060000Z MET delivered on time (an earlier schedule: cron "0 6 * * *" in UTC)',
    ]);
  });
});
