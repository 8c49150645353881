import { readFileSync, rmSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, dropkit } from '../helpers/cli';
import { serveFolder } from '../helpers/static-server';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

describe('pull from latest.json', () => {
  let p: TempProject;
  let dest: string;
  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    const run = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z']);
    expect(run.code).toBe(0);
  });
  afterAll(() => p.cleanup());
  beforeEach(() => (dest = mkdtempSync(join(tmpdir(), 'dropkit-pull-latest-'))));
  afterEach(() => rmSync(dest, { recursive: true, force: true }));

  it('follows a latest.json link over http to the newest manifest, and counts the rows once, not once per format', async () => {
    const server = await serveFolder(join(p.dir, 'out'));
    try {
      const r = await dropkit(['pull', `${server.url}/daily/latest.json`, '--dest', dest]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      // 3 rows in a CSV and the same 3 in a Parquet file: the drop has 3 rows.
      expect(r.stdout).toMatch(/^daily run \S+: 2 files, [\d,]+ bytes, 3 rows; 2 downloaded, 0 already present; all verified/m);
      const manifest = JSON.parse(readFileSync(join(dest, 'manifest.json'), 'utf8'));
      expect([manifest.feed, manifest.rowCount]).toEqual(['daily', 3]);
      expect(server.requests.filter((u) => u.endsWith('manifest.json'))).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('follows a latest.json path too', async () => {
    const r = await dropkit(['pull', join(p.dir, 'out', 'daily', 'latest.json'), '--dest', dest, '--json']);
    expect([r.code, JSON.parse(r.stdout).status]).toEqual([0, 'ok']);
  });

  it('refuses a manifest that is not the one latest.json vouches for, downloading nothing', async () => {
    const pointer = JSON.parse(readFileSync(join(p.dir, 'out', 'daily', 'latest.json'), 'utf8'));
    const tampered = join(dest, 'latest.json');
    const folder = join(p.dir, 'out', 'daily');
    writeFileSync(join(folder, 'latest-bad.json'), JSON.stringify({ ...pointer, manifestSha256: '0'.repeat(64) }));
    const r = await dropkit(['pull', join(folder, 'latest-bad.json'), '--dest', join(dest, 'x')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`does not match the SHA-256 that ${join(folder, 'latest-bad.json')} gives for it`);
    expect(existsSync(join(dest, 'x'))).toBe(false);
    expect(existsSync(tampered)).toBe(false);
    rmSync(join(folder, 'latest-bad.json'));
  });
});
