import { join } from 'node:path';
import { createProgress } from '../../lib/cli/progress';
import { formatLateness } from '../../lib/cli/run-output';
import { dropkit } from '../helpers/cli';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

// Daily slots at 06:00 UTC: the 14th holds 1 event, the 15th 3, the 16th 3, the 17th and 18th none,
// so their row_count check (min 1) fails.
const RANGE = ['--from', '2024-01-14', '--to', '2024-01-18T06:00:00Z', '--now', '2024-01-20T00:00:00Z'];

describe('dropkit backfill', () => {
  let p: TempProject;
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    const pre = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-20T00:00:00Z']);
    expect(pre.code).toBe(0);
  });
  afterEach(() => p.cleanup());

  it('runs the range in order, skips the delivered slot and stops at the first failure', async () => {
    const r = await dropkit(['backfill', 'daily', '--project', p.dir, ...RANGE, '--json']);
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'failed', total: 5, delivered: 2, skipped: 1, failed: 1, notRun: 1 });
    expect(out.runs.map((x: any) => [x.slot, x.status])).toEqual([
      ['20240114T060000Z', 'delivered'],
      ['20240115T060000Z', 'already-delivered'],
      ['20240116T060000Z', 'delivered'],
      ['20240117T060000Z', 'validation-failed'],
    ]);
  });

  it('goes on after a failure when asked, and ends with a readable summary', async () => {
    const r = await dropkit(['backfill', 'daily', '--project', p.dir, ...RANGE, '--continue-on-failure']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('daily: 5 slots: 2 delivered, 1 skipped (already delivered), 2 failed');
    expect(r.stdout).toMatch(/✗ daily slot 20240118T060000Z: validation failed/);
  });

  it('rejects a range with no due slot and a reversed range as usage errors', async () => {
    const none = await dropkit(['backfill', 'daily', '--project', p.dir, '--from', '2024-01-14T07:00:00Z', '--to', '2024-01-14T08:00:00Z']);
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining('no slot of daily')]);
    const reversed = await dropkit(['backfill', 'daily', '--project', p.dir, '--from', '2024-01-18', '--to', '2024-01-14']);
    expect([reversed.code, reversed.stderr]).toEqual([2, expect.stringContaining('is after --to')]);
  });

  it('prints no progress when the output is JSON or not a terminal', async () => {
    for (const extra of [['--json'], []]) {
      const r = await dropkit([
        'backfill',
        'daily',
        '--project',
        p.dir,
        '--from',
        '2024-01-16',
        '--to',
        '2024-01-16T06:00:00Z',
        '--now',
        '2024-01-20T00:00:00Z',
        ...extra,
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toMatch(new RegExp(String.raw`\r|\u001b\[|slots\]`));
    }
  });
});

describe('createProgress', () => {
  function fakeTerminal() {
    const writes: string[] = [];
    return { writes, stream: { isTTY: true, columns: 100, write: (t: string) => (writes.push(t), true) } };
  }

  it('shows the run, its step, rows and bytes, and slots done, rewriting one line', () => {
    const t = fakeTerminal();
    let clock = 0;
    const progress = createProgress({ json: false, stream: t.stream, now: () => (clock += 1000) });
    progress.slots(2, 5);
    progress.run('daily 20240115T060000Z');
    progress.step('render');
    progress.written('csv', 1234567, 5 * 1024 * 1024);
    expect(t.writes.every((w) => w.startsWith('\r\x1b[2K'))).toBe(true);
    expect(t.writes[t.writes.length - 1]).toBe('\r\x1b[2K[2/5 slots]  daily 20240115T060000Z  render  csv: 1,234,567 rows, 5.0 MiB');
    progress.clear();
    expect(t.writes[t.writes.length - 1]).toBe('\r\x1b[2K');
  });

  it('writes nothing with --json or when the stream is not a terminal', () => {
    const t = fakeTerminal();
    createProgress({ json: true, stream: t.stream }).step('stage');
    createProgress({ json: false, stream: { ...t.stream, isTTY: false } }).step('stage');
    expect(t.writes).toEqual([]);
  });

  it('redraws row counts at most ten times a second', () => {
    const t = fakeTerminal();
    let clock = 0;
    const progress = createProgress({ json: false, stream: t.stream, now: () => clock });
    progress.step('render');
    for (let i = 0; i < 50; i++) {
      clock += 10;
      progress.written('csv', i, i);
    }
    expect(t.writes.length).toBeLessThanOrEqual(1 + 5);
  });
});

describe('formatLateness', () => {
  it('reads as days, hours and minutes', () => {
    expect([formatLateness(0), formatLateness(45), formatLateness(3600 + 120), formatLateness(93784)]).toEqual(['0s', '45s', '1h 2m', '1d 2h 3m']);
  });
});
