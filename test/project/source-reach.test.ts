import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ConfigProblem } from '../../lib/core/errors';
import { loadProject } from '../../lib/project/load-project';
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

/** Issue 14 item 6 and a papercut: what a source may reach, said at check time. */
describe('sources must not reach the store nor leave the project unasked', () => {
  let p: TempProject;
  let outside: string;
  beforeEach(() => {
    p = tempProject({ 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL, 'data/a.csv': 'x\n1\n', 'top.csv': 'x\n2\n', 'out/keep': '' });
    outside = mkdtempSync(join(tmpdir(), 'dropkit-outside-'));
    writeFileSync(join(outside, 'secret.csv'), 'x\n3\n');
  });
  afterEach(() => {
    p.cleanup();
    rmSync(outside, { recursive: true, force: true });
  });

  it.each([
    ['a glob at the project root', '*.csv'],
    ['a glob above the project', '../**/*.csv'],
    ['a glob inside the store', 'out/**/*.parquet'],
  ])('refuses %s: it would reach the store folder, with the fix', (_what, glob) => {
    p.write('dropkit.yaml', `name: test\nsources:\n  t: "${glob}"\n`);
    expect(problemsOf(p.dir)).toEqual([
      expect.objectContaining({
        file: 'dropkit.yaml',
        path: 'sources.t',
        value: glob,
        message: expect.stringMatching(/reaches the store folder out .*feed SQL could read them/),
        fix: expect.stringMatching(/folder of its own, such as data\//),
      }),
    ]);
  });

  it('refuses a glob rooted outside the project unless asked for on purpose with outsideProject: true', () => {
    p.write('dropkit.yaml', `name: test\nsources:\n  t: "${outside}/*.csv"\n`);
    expect(problemsOf(p.dir)).toEqual([
      expect.objectContaining({
        path: 'sources.t',
        message: expect.stringMatching(/outside the project folder/),
        fix: expect.stringMatching(/outsideProject: true/),
      }),
    ]);
    p.write('dropkit.yaml', `name: test\nsources:\n  t:\n    path: "${outside}/*.csv"\n    outsideProject: true\n`);
    expect(problemsOf(p.dir)).toEqual([]);
  });

  it('accepts a glob in a data folder of its own', () => {
    p.write('dropkit.yaml', 'name: test\nsources:\n  t: data/*.csv\n');
    expect(problemsOf(p.dir)).toEqual([]);
  });

  it('refuses a glob that matches a symlink to a file outside its folder (the engine could not read it, and every feed would fail at start)', () => {
    mkdirSync(join(p.dir, 'data'), { recursive: true });
    symlinkSync(join(outside, 'secret.csv'), join(p.dir, 'data/b.csv'));
    p.write('dropkit.yaml', 'name: test\nsources:\n  t: data/*.csv\n');
    expect(problemsOf(p.dir)).toEqual([
      expect.objectContaining({
        path: 'sources.t',
        message: expect.stringMatching(/matches 1 symlink\(s\) to files outside data \(data\/b\.csv → .*secret\.csv\)/),
      }),
    ]);
  });
});
