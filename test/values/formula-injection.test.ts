import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertValidManifest } from '../../lib/core/manifest-schema';
import { runFeed } from '../helpers/local-run';
import { PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

/** Spreadsheet formula injection through a whole run (issue 14, item 9). */
describe('a feed whose values look like spreadsheet formulas', () => {
  let project: TempProject;
  const SQL = `SELECT 1 AS id, '=HYPERLINK("http://evil","x")' AS a, '@SUM(A1)' AS b, -5 AS n, 'plain' AS p\n`;
  beforeEach(async () => {
    project = tempProject({
      'dropkit.yaml': PROJECT_YAML,
      'feeds/exact.yaml': dailyFeed('exact'),
      'feeds/exact.sql': SQL,
      'feeds/sheets.yaml': dailyFeed('sheets').replace('    gzip: false\n', '    gzip: false\n    formulas: neutralize\n'),
      'feeds/sheets.sql': SQL,
    });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => project.cleanup());

  async function delivered(feed: string) {
    const { outcome, store } = await runFeed(project.dir, feed, { slot: '2024-01-15T06:00:00Z' });
    expect(outcome.error).toBeUndefined();
    expect(() => assertValidManifest(outcome.manifest!)).not.toThrow();
    const csv = readFileSync(store.localPath(outcome.manifestKey!.replace('manifest.json', 'part-00000.csv')), 'utf8');
    return { manifest: outcome.manifest!, csv };
  }

  it('writes them exactly by default, and the manifest says so', async () => {
    const { manifest, csv } = await delivered('exact');
    expect(manifest.csv?.formulas).toBe('keep');
    expect(csv).toBe('id,a,b,n,p\n1,"=HYPERLINK(""http://evil"",""x"")",@SUM(A1),-5,plain\n');
  });

  it('neutralizes them when the dialect opts in, numbers aside, and the manifest records it', async () => {
    const { manifest, csv } = await delivered('sheets');
    expect(manifest.csv?.formulas).toBe('neutralize');
    expect(csv).toBe(`id,a,b,n,p\n1,"'=HYPERLINK(""http://evil"",""x"")","'@SUM(A1)",-5,plain\n`);
  });
});
