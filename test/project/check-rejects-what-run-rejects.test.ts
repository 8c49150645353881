import { ConfigError, ConfigProblem } from '../../lib/core/errors';
import { loadProject } from '../../lib/project/load-project';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, tempProject, TempProject } from '../helpers/temp-project';

/** Every problem loadProject finds, or a failure when it finds none or throws anything else. */
function problemsOf(dir: string): ConfigProblem[] {
  try {
    loadProject(dir);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('check rejects what run would reject', () => {
  let p: TempProject;
  beforeEach(() => {
    p = tempProject({
      'dropkit.yaml': PROJECT_YAML,
      'feeds/daily.yaml': dailyFeed(),
      'feeds/daily.sql': DAILY_SQL,
      'data/events.parquet': 'not read by check',
    });
  });
  afterEach(() => p.cleanup());

  describe('SLA durations are bounded to 366 days', () => {
    it.each([
      ['deliverWithin', 'sla:\n  deliverWithin: P99999999D\n'],
      ['warnAfter', 'sla:\n  deliverWithin: PT2H\n  warnAfter: P9999999999W\n'],
      ['grace', 'sla:\n  deliverWithin: PT2H\n  grace: P9999999999W\n'],
    ])('refuses an sla.%s beyond 366 days, naming the field, the value and the limit', (field, sla) => {
      p.write('feeds/daily.yaml', dailyFeed().replace('sla:\n  deliverWithin: PT2H\n', sla));
      const value = /(P\d+[DW])/.exec(sla)![1];
      expect(problemsOf(p.dir)).toEqual([
        expect.objectContaining({ file: 'feeds/daily.yaml', path: `sla.${field}`, value, message: expect.stringContaining('at most 366 days (P366D)') }),
      ]);
    });

    it('accepts exactly 366 days', () => {
      p.write('feeds/daily.yaml', dailyFeed().replace('deliverWithin: PT2H', 'deliverWithin: P366D'));
      expect(loadProject(p.dir).feeds[0].spec.sla.deliverWithin).toBe('P366D');
    });

    it('refuses a freshness maxLag beyond 366 days, which would put its threshold before any valid date', () => {
      p.write('feeds/daily.yaml', dailyFeed('daily', '  - type: freshness\n    column: happened_at\n    maxLag: P99999999D\n'));
      expect(problemsOf(p.dir)).toEqual([
        expect.objectContaining({ path: 'checks.2.maxLag', value: 'P99999999D', message: expect.stringContaining('at most 366 days') }),
      ]);
    });
  });

  describe('parameters keep their value exactly', () => {
    it.each([
      ['1e29', '1e+29'],
      ['9007199254740993', '9007199254740992'],
      ['-9007199254740992', '-9007199254740992'],
    ])('refuses the integer %s, which a YAML number cannot hold exactly, with the reason and the fix', (text, readAs) => {
      p.write('feeds/daily.yaml', dailyFeed() + `parameters:\n  big: ${text}\n`);
      const [problem, ...rest] = problemsOf(p.dir);
      expect(rest).toEqual([]);
      expect(problem).toMatchObject({ file: 'feeds/daily.yaml', path: 'parameters.big' });
      expect(problem.message).toContain(`read as ${readAs}`);
      expect(problem.message).toContain('beyond 9007199254740991 (2^53-1)');
      expect(problem.fix).toMatch(/quote it as a string .* and CAST it in SQL/);
    });

    it('refuses the same in a partner parameter', () => {
      p.write(
        'feeds/daily.yaml',
        dailyFeed() + 'delivery: per-partner\nparameters:\n  big: "1"\npartners:\n  - id: acme\n    parameters:\n      big: 12345678901234567890\n',
      );
      expect(problemsOf(p.dir)).toEqual([expect.objectContaining({ path: 'partners.0.parameters.big', fix: expect.stringContaining('CAST') })]);
    });

    it('refuses infinity and NaN', () => {
      p.write('feeds/daily.yaml', dailyFeed() + 'parameters:\n  a: .inf\n  b: .nan\n');
      expect(
        problemsOf(p.dir)
          .map((x) => x.path)
          .sort(),
      ).toEqual(['parameters.a', 'parameters.b']);
    });

    it('accepts the largest safe integer, fractions and a big integer quoted as a string', () => {
      p.write('feeds/daily.yaml', dailyFeed() + 'parameters:\n  a: 9007199254740991\n  b: 0.1\n  c: "9007199254740993"\n');
      expect(loadProject(p.dir).feeds[0].spec.parameters).toEqual({ a: 9007199254740991, b: 0.1, c: '9007199254740993' });
    });
  });

  it('reports a YAML alias bomb as a problem of the file instead of expanding it', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    p.write('feeds/daily.yaml', dailyFeed() + bomb.join('\n') + '\n');
    expect(problemsOf(p.dir)).toEqual([
      expect.objectContaining({
        file: 'feeds/daily.yaml',
        message: expect.stringMatching(/too many aliases/),
        fix: expect.stringMatching(/write the values out|fewer aliases/),
      }),
    ]);
  });

  describe('sources', () => {
    it('refuses a source file that does not exist, naming the source, the path and the fix', () => {
      p.write('dropkit.yaml', 'name: test\nsources:\n  events: data/events.parquet\n  orders: data/orders.csv\n');
      expect(problemsOf(p.dir)).toEqual([
        expect.objectContaining({
          file: 'dropkit.yaml',
          path: 'sources.orders',
          value: 'data/orders.csv',
          message: 'no file matches this source',
          fix: expect.stringContaining('create the file or correct the path'),
        }),
      ]);
    });

    it('does not ask for local files when the project is loaded for a deployment (cdk synth)', () => {
      p.write('dropkit.yaml', 'name: test\nsources:\n  events: data/events.parquet\n  orders: data/orders.csv\n');
      expect(loadProject(p.dir, { localSources: false }).sources.orders.path).toMatch(/data\/orders\.csv$/);
    });

    it('refuses a glob that matches no file, and accepts one that does', () => {
      p.write('data/2024/01.parquet', 'x');
      p.write('dropkit.yaml', 'name: test\nsources:\n  events: data/**/*.parquet\n  orders:\n    path: data/orders-*.csv\n');
      expect(problemsOf(p.dir)).toEqual([
        expect.objectContaining({ path: 'sources.orders.path', value: 'data/orders-*.csv', message: 'no file matches this source' }),
      ]);
      p.write('data/orders-1.csv', 'id\n1\n');
      expect(Object.keys(loadProject(p.dir).sources)).toEqual(['events', 'orders']);
    });

    it('refuses a source that names a folder, which no reader can read', () => {
      p.write('data/dir/x.parquet', 'x');
      p.write('dropkit.yaml', 'name: test\nsources:\n  events: data/dir\n');
      expect(problemsOf(p.dir)).toEqual([expect.objectContaining({ path: 'sources.events', message: 'no file matches this source' })]);
    });
  });
});
