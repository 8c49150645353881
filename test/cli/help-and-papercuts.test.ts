import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDuration } from '../../lib/cli/commands/history';
import { didYouMean } from '../../lib/core/did-you-mean';
import { COMMAND_HELP, readmeCliBlock } from '../../lib/cli/help';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';
import { cli } from '../helpers/in-process-cli';

describe('the CLI describes itself from one description per command', () => {
  it.each(COMMAND_HELP.map((c) => [c.name]))('dropkit %s --help prints its usage and exits 0', async (name) => {
    const r = await cli([name, '--help']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(new RegExp(`^Usage:\\n  dropkit ${name}\\b`));
    const again = await cli(['help', name]);
    expect(again.stdout).toBe(r.stdout);
  });

  it('README shows the very CLI block the descriptions make', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const block = /## The CLI\n\n```\n([\s\S]*?)\n```/.exec(readme)?.[1];
    // To update README: node -e "console.log(require('./dist/lib/cli/help').readmeCliBlock())"
    expect(block).toBe(readmeCliBlock());
  });

  it('README calls the CLI through npm with -s, so --json output has no npm banner', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).not.toMatch(/npm run dropkit --/);
    expect(readme).toContain('npm run -s dropkit --');
  });

  it('suggests the nearest command and option', async () => {
    const r = await cli(['histroy', 'daily']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('unknown command "histroy"; did you mean "history"?')]);
    const o = await cli(['run', 'daily', '--dryrun']);
    expect([o.code, o.stderr]).toEqual([2, 'dropkit run: unknown option --dryrun; did you mean --dry-run? See dropkit run --help\n']);
    expect(didYouMean('zzzzzz', ['check', 'run'])).toBeUndefined();
  });

  it('tells run lengths in words', () => {
    expect([runDuration(850), runDuration(4210), runDuration(185_000)]).toEqual(['850 ms', '4.2 s', '3 min 05 s']);
  });
});

describe('history shows how long each run took', () => {
  let p: TempProject;
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  it('says why a slot run after its deadline is LATE', async () => {
    const r = await cli(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T09:30:00Z']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SLA LATE \(1h 30m late\)/);
    expect(r.stdout).toContain(
      "  LATE because this run started at 2024-01-15T09:30:00.000Z, after the slot's deadline 2024-01-15T08:00:00.000Z: nothing ran it on time.",
    );
  });

  it('lists a delivered run with its duration', async () => {
    expect((await cli(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z', '--json'])).code).toBe(0);
    const r = await cli(['history', 'daily', '--project', p.dir]);
    expect(r.stdout).toMatch(/^20240115T060000Z {2}r1 {2}delivered 3 rows {2}in \d+(\.\d)? m?s {2}\S+$/m);
  });
});

describe('a misspelt feed field or check type', () => {
  let p: TempProject;
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  it('names the field it was probably meant to be', async () => {
    p.write('feeds/daily.yaml', dailyFeed().replace('formats:', 'fromats:'));
    const r = await cli(['check', '--project', p.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('feeds/daily.yaml: fromats: unknown field; did you mean "formats"?');
    p.write('feeds/daily.yaml', dailyFeed().replace('  - type: row_count\n    min: 1', '  - type: row_count\n    minn: 1'));
    expect((await cli(['check', '--project', p.dir])).stderr).toContain('feeds/daily.yaml: checks.0.minn: unknown field; did you mean "min"?');
  });

  it('shows the bad check type once in its path, with the nearest type and the list', async () => {
    p.write('feeds/daily.yaml', dailyFeed().replace('type: unique', 'type: uniqe'));
    const r = await cli(['check', '--project', p.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('feeds/daily.yaml: checks.1.type: unknown type; did you mean "unique"? (got "uniqe")');
    expect(r.stderr).toContain('fix: use one of: row_count, row_count_change, not_null, unique,');
  });
});
