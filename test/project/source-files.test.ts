import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceMatchesAFile } from '../../lib/project/source-files';

describe('sourceMatchesAFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dropkit-sources-'));
    for (const f of ['a/2024-01.parquet', 'a/2024-02.parquet', 'a/deep/er/x.csv.gz', 'b/one.csv', 'c.d/e+f.csv']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), '');
    }
    mkdirSync(join(dir, 'empty'));
    symlinkSync(dir, join(dir, 'a', 'loop')); // ** must not walk round it forever
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a/2024-01.parquet', true],
    ['a/2024-03.parquet', false],
    ['a/*.parquet', true],
    ['a/*.csv', false],
    ['a/2024-0?.parquet', true],
    ['a/2024-0[12].parquet', true],
    ['a/2024-0[!12].parquet', false],
    ['**/x.csv.gz', true],
    ['a/**/*.csv.gz', true],
    ['a/**/*.parquet', true], // ** may stand for no folder
    ['**/*.json', false],
    ['c.d/e+f.csv', true],
    ['c?d/e+f.csv', true],
    ['c.d/e+*.csv', true],
    ['empty', false], // a folder is not a file
    ['empty/*', false],
    ['*/one.csv', true],
  ])('%s matches a file: %s', (pattern, expected) => {
    expect(sourceMatchesAFile(join(dir, pattern))).toBe(expected);
  });
});
