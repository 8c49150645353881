import { ConfigError, ConfigProblem } from '../../lib/core/errors';
import { loadProject } from '../../lib/project/load-project';
import { dropkit } from '../helpers/cli';
import { DAILY_SQL, dailyFeed, tempProject, TempProject } from '../helpers/temp-project';

function problemsOf(dir: string): ConfigProblem[] {
  try {
    loadProject(dir);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

const PROJECT = 'name: test\nsources:\n  events: data/events.parquet\n';

/** Issue 14 papercut: every refusal of a config names the field, shows the value and says the fix. */
describe('every config refusal carries a fix', () => {
  let p: TempProject;
  beforeEach(() => {
    p = tempProject({ 'dropkit.yaml': PROJECT, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL, 'data/events.parquet': '' });
  });
  afterEach(() => p.cleanup());

  const feed = (f: (yaml: string) => string) => () => p.write('feeds/daily.yaml', f(dailyFeed()));
  const project = (yaml: string) => () => p.write('dropkit.yaml', yaml);
  const cases: [string, string, () => void][] = [
    ['feed name', 'name', feed((y) => y.replace('name: daily', 'name: Daily Orders'))],
    ['empty description', 'description', feed((y) => y.replace('description: test feed', 'description: ""'))],
    ['partner id', 'partners.0.id', feed((y) => y + 'delivery: per-partner\npartners:\n  - id: Acme Corp\n')],
    ['empty formats', 'formats', feed((y) => y.replace('formats:\n  csv:\n    gzip: false\n  parquet: {}\n', 'formats: {}\n'))],
    ['webhook URL', 'notify.0.url', feed((y) => y + 'notify:\n  - type: webhook\n    url: ftp://x\n    secretEnv: S\n')],
    ['webhook secretEnv', 'notify.0.secretEnv', feed((y) => y + 'notify:\n  - type: webhook\n    url: https://x.example\n    secretEnv: my secret\n')],
    ['nullText', 'formats.csv.nullText', feed((y) => y.replace('    gzip: false\n', '    gzip: false\n    nullText: ","\n'))],
    ['delimiter', 'formats.csv.delimiter', feed((y) => y.replace('    gzip: false\n', '    gzip: false\n    delimiter: ";;"\n'))],
    ['delimiter equal to quote', 'formats.csv', feed((y) => y.replace('    gzip: false\n', "    gzip: false\n    delimiter: '\"'\n"))],
    ['parameter name', 'parameters.Region', feed((y) => y + 'parameters:\n  Region: eu\n')],
    ['built-in parameter', 'parameters', feed((y) => y + 'parameters:\n  slot: x\n')],
    ['project prefix', 'prefix', project(PROJECT + 'prefix: /Drops/\n')],
    ['project name', 'name', project(PROJECT.replace('name: test', 'name: My Project'))],
    ['source name', 'sources.Events', project('name: test\nsources:\n  Events: data/events.parquet\n')],
    ['sla with both', 'sla', feed((y) => y.replace('deliverWithin: PT2H', 'deliverWithin: PT2H\n  deadline: "09:00"'))],
    ['output at a file', 'output', project(PROJECT + 'output: data/events.parquet\n')],
    ['calendar date', 'calendar.exceptDates.0', feed((y) => y + 'calendar:\n  exceptDates: ["2024-02-30"]\n')],
  ];

  it.each(cases)('%s: names the field and says the fix', (_what, path, write) => {
    write();
    const problems = problemsOf(p.dir);
    expect(problems).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    for (const problem of problems)
      expect({ path: problem.path, message: problem.message, fix: problem.fix }).toEqual({
        path: problem.path,
        message: problem.message,
        fix: expect.stringMatching(/\w{3}/),
      });
  });
});

describe('output pointing at a file', () => {
  it('is a configuration error: dropkit run exits 2 naming output and the fix, before writing anything', async () => {
    const p = tempProject({
      'dropkit.yaml': PROJECT + 'output: store.txt\n',
      'feeds/daily.yaml': dailyFeed(),
      'feeds/daily.sql': DAILY_SQL,
      'data/events.parquet': '',
      'store.txt': 'x',
    });
    try {
      const r = await dropkit(['run', 'daily', '--project', p.dir, '--now', '2024-01-16T07:00:00Z']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/output.*names a file, not a folder.*point output at a folder/s);
    } finally {
      p.cleanup();
    }
  });
});
