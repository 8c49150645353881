import { join } from 'node:path';
import { parseConcurrency } from '../../lib/cli/commands/run';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';
import { cli } from '../helpers/in-process-cli';

const NAMES = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

describe('dropkit run --all --concurrency N', () => {
  let p: TempProject;
  beforeEach(async () => {
    const files: Record<string, string> = { 'dropkit.yaml': PROJECT_YAML };
    for (const n of NAMES) {
      files[`feeds/${n}.yaml`] = dailyFeed(n);
      files[`feeds/${n}.sql`] = DAILY_SQL;
    }
    p = tempProject(files);
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  it('delivers every feed, one headline each (its details beneath it), in feed order', async () => {
    const r = await cli(['run', '--all', '--concurrency', '3', '--project', p.dir, '--now', '2024-01-15T07:00:00Z', '--out', join(p.dir, 'out'), '--notify']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith(' '));
    expect(lines).toHaveLength(NAMES.length);
    // Each line names its own feed, in the order the project lists them, whichever run finished first.
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`\\b${NAMES[i]}\\b`)));
    expect(lines.every((l) => /^✓ \w+ slot 20240115T060000Z: delivered 3 rows/.test(l))).toBe(true);
    // A run's detail lines stay under its own headline.
    expect(r.stdout).toMatch(/✓ alpha [^\n]*\n {2}checks[^\n]*\n {2}manifest [^\n]*out\/alpha\//);
  });

  it('refuses --concurrency without --all, and a count that is not a positive whole number', async () => {
    const single = await cli(['run', 'alpha', '--concurrency', '2', '--project', p.dir]);
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/--concurrency N .*give it with --all/);
    for (const bad of ['0', '1.5', 'two', '-1']) {
      const r = await cli(['run', '--all', `--concurrency=${bad}`, '--project', p.dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--concurrency ${bad} is not a positive whole number`);
    }
  });

  it('defaults to two runs per core with --all, and one run without', () => {
    expect(parseConcurrency(undefined, true, 8)).toBe(16);
    expect(parseConcurrency(undefined, false, 8)).toBe(1);
    expect(parseConcurrency('4', true, 8)).toBe(4);
  });
});
