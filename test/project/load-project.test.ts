import { ConfigError, ConfigProblem } from '../../lib/core/errors';
import { loadProject } from '../../lib/project/load-project';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, tempProject, TempProject } from '../helpers/temp-project';

function problemsOf(dir: string): ConfigProblem[] {
  try {
    loadProject(dir);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadProject', () => {
  let p: TempProject;
  beforeEach(() => {
    // check now needs every source to match a file; its content is only read by a run.
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL, 'data/events.parquet': '' });
  });
  afterEach(() => p.cleanup());

  it('loads a valid project with defaults applied and SQL read for both engines', () => {
    const project = loadProject(p.dir);
    const [feed] = project.feeds;
    expect(feed.spec).toMatchObject({
      name: 'daily',
      delivery: 'shared',
      links: { expiresIn: 'PT1H' },
      formats: { csv: { delimiter: ',', quoting: 'needed', header: true, nullText: '', lineEnding: 'lf' }, parquet: { compression: 'zstd' } },
    });
    expect(feed.sql.duckdb).toBe(DAILY_SQL);
    expect(feed.sql.athena).toBe(DAILY_SQL);
    expect(feed.eventBridgeCron).toBe('cron(0 6 * * ? *)');
    expect(project.sources.events).toEqual({ path: `${p.dir}/data/events.parquet`, format: 'parquet' });
  });

  it('uses an engine-specific SQL file beside the common one', () => {
    p.write('feeds/daily.yaml', dailyFeed() + 'query:\n  sql: daily.sql\n  athena: daily.athena.sql\n');
    p.write('feeds/daily.athena.sql', 'SELECT 1 AS id FROM glue_db.events');
    const [feed] = loadProject(p.dir).feeds;
    expect(feed.sql).toEqual({ duckdb: DAILY_SQL, athena: 'SELECT 1 AS id FROM glue_db.events' });
  });

  it('names the engine whose own SQL file is missing', () => {
    p.write('feeds/daily.yaml', dailyFeed() + 'query:\n  athena: daily.athena.sql\n');
    expect(problemsOf(p.dir)).toEqual([expect.objectContaining({ path: 'query.athena', message: 'SQL file for athena not found', value: 'daily.athena.sql' })]);
  });

  it('reports broken YAML with the line and the fix', () => {
    p.write('feeds/daily.yaml', 'name: daily\nschedule:\n  cron: "0 6 * * *\n  timezone: UTC\n');
    const [problem] = problemsOf(p.dir);
    expect(problem.file).toBe('feeds/daily.yaml');
    expect(problem.path).toMatch(/^line \d+, column \d+$/);
    expect(problem.message).toMatch(/not valid YAML/);
    expect(problem.fix).toMatch(/YAML syntax/);
  });

  it('reports an unknown field by its path', () => {
    p.write('feeds/daily.yaml', dailyFeed().replace('  csv:\n', '  csv:\n    delimeter: ";"\n'));
    expect(problemsOf(p.dir)).toEqual([
      expect.objectContaining({
        file: 'feeds/daily.yaml',
        path: 'formats.csv.delimeter',
        message: 'unknown field; did you mean "delimiter"?',
        fix: expect.stringMatching(/remove "delimeter" or correct its spelling/),
      }),
    ]);
  });

  it('rejects a bad cron naming the field, the value and the fix', () => {
    p.write('feeds/daily.yaml', dailyFeed().replace('"0 6 * * *"', '"0 6 * * 8"'));
    const [problem] = problemsOf(p.dir);
    expect(problem).toMatchObject({ file: 'feeds/daily.yaml', path: 'schedule.cron', value: '0 6 * * 8' });
    expect(problem.message).toMatch(/day-of-week/);
    expect(problem.fix).toBeTruthy();
  });

  it('rejects a cron that EventBridge Scheduler cannot express, saying why', () => {
    p.write('feeds/daily.yaml', dailyFeed().replace('"0 6 * * *"', '"0 6 1 * MON"'));
    const [problem] = problemsOf(p.dir);
    expect(problem).toMatchObject({ path: 'schedule.cron', value: '0 6 1 * MON' });
    expect(`${problem.message} ${problem.fix}`).toMatch(/day-of-month/);
  });

  it('rejects an unknown time zone', () => {
    p.write('feeds/daily.yaml', dailyFeed().replace('timezone: UTC', 'timezone: Europe/Amsterdm'));
    expect(problemsOf(p.dir)).toEqual([
      expect.objectContaining({ path: 'schedule.timezone', message: 'unknown time zone', value: 'Europe/Amsterdm', fix: expect.stringMatching(/IANA/) }),
    ]);
  });

  it('rejects a missing SQL file, naming the file it looked for', () => {
    p.write('feeds/other.yaml', dailyFeed('other'));
    expect(problemsOf(p.dir)).toEqual([
      expect.objectContaining({
        file: 'feeds/other.yaml',
        path: 'query',
        message: 'SQL file not found',
        value: 'other.sql',
        fix: expect.stringMatching(/create other.sql beside the feed file/),
      }),
    ]);
  });

  it('rejects two feeds with the same name', () => {
    p.write('feeds/copy.yaml', dailyFeed('daily'));
    p.write('feeds/copy.sql', DAILY_SQL);
    expect(problemsOf(p.dir)).toEqual([
      expect.objectContaining({ file: 'feeds/daily.yaml', path: 'name', value: 'daily', message: 'feed name already used by feeds/copy.yaml' }),
    ]);
  });

  it('rejects a parameter the SQL uses but nobody defines, and $partner_id on a shared feed', () => {
    p.write('feeds/daily.sql', 'SELECT * FROM events WHERE x = $threshold AND p = $partner_id');
    const problems = problemsOf(p.dir);
    expect(problems.map((x) => [x.path, x.value])).toEqual([
      ['parameters', 'threshold'],
      ['delivery', 'shared'],
    ]);
  });

  it('ignores $names inside strings and comments when checking parameters', () => {
    p.write('feeds/daily.sql', 'SELECT \'$nope\' AS a, "$col" -- $comment\n/* $block */ FROM events WHERE t >= $window_start');
    expect(loadProject(p.dir).feeds).toHaveLength(1);
  });

  it('reports every problem of every file at once', () => {
    p.write('feeds/daily.yaml', dailyFeed().replace('timezone: UTC', 'timezone: Mars/Olympus').replace('deliverWithin: PT2H', 'deliverWithin: 2 hours'));
    p.write('feeds/broken.yaml', 'name: [\n');
    p.write('feeds/partial.yaml', 'name: partial\n');
    const problems = problemsOf(p.dir);
    const files = new Set(problems.map((x) => x.file));
    expect(files).toEqual(new Set(['feeds/daily.yaml', 'feeds/broken.yaml', 'feeds/partial.yaml']));
    expect(problems.find((x) => x.path === 'sla.deliverWithin')).toMatchObject({ value: '2 hours' });
    expect(problems.filter((x) => x.file === 'feeds/partial.yaml').map((x) => x.path)).toEqual(
      expect.arrayContaining(['description', 'owner', 'schedule', 'sla', 'formats']),
    );
  });

  it('rejects per-partner delivery without partners and duplicate partner ids', () => {
    p.write('feeds/daily.yaml', dailyFeed() + 'delivery: per-partner\n');
    expect(problemsOf(p.dir)).toEqual([expect.objectContaining({ path: 'partners', message: expect.stringMatching(/no partners/) })]);
    p.write('feeds/daily.yaml', dailyFeed() + 'partners:\n  - id: acme\n  - id: acme\n');
    expect(problemsOf(p.dir)).toEqual([expect.objectContaining({ path: 'partners.1.id', value: 'acme' })]);
  });

  it('names the missing project file and the fix', () => {
    expect(() => loadProject(`${p.dir}/feeds`)).toThrow(/no project file here[\s\S]*--project DIR/);
  });
});
