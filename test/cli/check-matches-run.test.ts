import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';
import { cli } from '../helpers/in-process-cli';

describe('what run would reject, check rejects with exit 2', () => {
  let p: TempProject;
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  it.each([
    [
      'an SLA past any valid date',
      dailyFeed().replace('deliverWithin: PT2H', 'deliverWithin: P99999999D'),
      /sla\.deliverWithin: must be at most 366 days.*"P99999999D"/,
    ],
    [
      'a warning point past any valid date',
      dailyFeed().replace('deliverWithin: PT2H', 'deliverWithin: PT2H\n  warnAfter: P9999999999W'),
      /sla\.warnAfter.*at most 366 days/,
    ],
    ['a parameter that loses digits', dailyFeed() + 'parameters:\n  big: 1e29\n', /parameters\.big.*read as 1e\+29.*CAST/s],
  ])('check and run both refuse %s with exit 2, and run writes nothing', async (_, feed, why) => {
    p.write('feeds/daily.yaml', feed);
    const check = await cli(['check', '--project', p.dir, '--now', '2024-01-15T07:00:00Z']);
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(why);
    const run = await cli(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z']);
    expect(run.code).toBe(2);
    expect(existsSync(join(p.dir, 'out'))).toBe(false);
  });

  it('check refuses a source that matches no file with exit 2, naming it', async () => {
    p.write('dropkit.yaml', 'name: test\nsources:\n  events: data/missing-*.parquet\n');
    const check = await cli(['check', '--project', p.dir]);
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/sources\.events.*no file matches this source.*data\/missing-\*\.parquet/s);
  });

  it.each([
    ['run', '--now garbage', ['run', 'daily', '--now', 'garbage']],
    ['run', '--slot garbage', ['run', 'daily', '--slot', 'garbage']],
    ['plan', '--now yesterday', ['plan', 'daily', '--now', 'yesterday']],
    ['plan', '--slot 2024-02-30T06:00:00Z', ['plan', 'daily', '--slot', '2024-02-30T06:00:00Z']],
    ['check', '--now garbage', ['check', '--now', 'garbage']],
    ['backfill', '--from garbage', ['backfill', 'daily', '--from', 'garbage', '--to', '2024-01-16']],
    ['backfill', '--to later', ['backfill', 'daily', '--from', '2024-01-14', '--to', 'later']],
    ['backfill', '--now garbage', ['backfill', 'daily', '--from', '2024-01-14', '--to', '2024-01-16', '--now', 'garbage']],
  ])('%s refuses %s as a usage error (exit 2) naming the flag, the value and the forms it takes', async (_, named, args) => {
    const r = await cli([...args, '--project', p.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${named} is not a time; give ISO-8601 like 2024-01-15T06:00:00Z, a date like 2024-01-15, or a slot id like 20240115T060000Z`);
    expect(existsSync(join(p.dir, 'out'))).toBe(false);
  });
});
