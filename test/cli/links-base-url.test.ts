import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, dropkit } from '../helpers/cli';
import { serveFolder } from '../helpers/static-server';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

describe('links of a local store served at a base URL', () => {
  let p: TempProject;
  let server: Awaited<ReturnType<typeof serveFolder>>;
  let dest: string;
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
  });
  beforeEach(async () => {
    p = tempProject({ 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    server = await serveFolder(join(p.dir, 'out'));
    dest = mkdtempSync(join(tmpdir(), 'dropkit-base-url-'));
  });
  afterEach(async () => {
    await server.close();
    p.cleanup();
    rmSync(dest, { recursive: true, force: true });
  });

  it('hands out links under links.baseUrl, not file:// URLs, and a partner pulls the drop with them', async () => {
    p.write('dropkit.yaml', `${PROJECT_YAML}links:\n  baseUrl: ${server.url}/\n`);
    const run = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z']);
    expect(run.code).toBe(0);
    const events = readFileSync(join(p.dir, 'out', '_outbox', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const delivered = events.find((e) => e.type === 'drop.delivered');
    expect(delivered.manifest.link.url).toMatch(new RegExp(`^${server.url}/daily/slot=20240115T060000Z/run=[^/]+/manifest\\.json$`));
    expect(delivered.files.every((f: { link: { url: string } }) => f.link.url.startsWith(`${server.url}/daily/`))).toBe(true);
    writeFileSync(join(dest, 'event.json'), JSON.stringify(delivered));
    const pull = await dropkit(['pull', delivered.manifest.link.url, '--links', join(dest, 'event.json'), '--dest', join(dest, 'drop')]);
    expect([pull.code, pull.stderr]).toEqual([0, '']);
  });

  it('refuses a base URL that is not http(s), naming the field', async () => {
    p.write('dropkit.yaml', `${PROJECT_YAML}links:\n  baseUrl: ftp://files.example.com/\n`);
    const r = await dropkit(['check', '--project', p.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('dropkit.yaml: links.baseUrl: must be an http(s) URL, e.g. https://files.example.com/drops/');
  });
});
