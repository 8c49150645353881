import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, dropkit } from '../helpers/cli';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

/** A webhook receiver on loopback that counts what it is sent. */
async function receiver(): Promise<{ url: string; posts: string[]; close(): Promise<void> }> {
  const posts: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      posts.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, posts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const SLOT = ['--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z'];
const ENV = { DAILY_HOOK_SECRET: 'shh' };

describe('rehearsals tell nobody', () => {
  let p: TempProject;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let scratch: string;
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
  });
  beforeEach(async () => {
    hook = await receiver();
    p = tempProject({
      'dropkit.yaml': PROJECT_YAML,
      'feeds/daily.yaml': dailyFeed('daily', `notify:\n  - type: webhook\n    url: ${hook.url}\n    secretEnv: DAILY_HOOK_SECRET\n`),
      'feeds/daily.sql': DAILY_SQL,
    });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    scratch = mkdtempSync(join(tmpdir(), 'dropkit-scratch-'));
  });
  afterEach(async () => {
    await hook.close();
    p.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('run --dry-run stages, validates and renders into a scratch folder, says what it would deliver and to whom, and tells nobody', async () => {
    const r = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--dry-run'], ENV);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ daily slot 20240115T060000Z: delivered 3 rows in 2 files, SLA MET$/m);
    expect(r.stdout).toContain(`  ~ would notify webhook ${hook.url} (not sent: dry run)`);
    expect(r.stdout).toMatch(/^ {2}checks PASS=2 WARN=0 FAIL=0 ERROR=0$/m);
    const at = /dry run: staged, validated and rendered into (\S+);/.exec(r.stdout)![1];
    expect(readdirSync(join(at, 'daily', 'slot=20240115T060000Z'))).toHaveLength(1);
    expect(hook.posts).toEqual([]);
    // The project's store holds nothing: a real run afterwards delivers revision 1 and tells the partner.
    expect(existsSync(join(p.dir, 'out', 'daily'))).toBe(false);
    expect(existsSync(join(p.dir, 'out', '_outbox'))).toBe(false);
    const real = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--json'], ENV);
    expect(JSON.parse(real.stdout)).toMatchObject({ status: 'delivered', revision: 1, dryRun: false, noticesHeld: null });
    expect(hook.posts).toHaveLength(1);
    rmSync(at, { recursive: true, force: true });
  });

  it('backfill --dry-run tells nobody either', async () => {
    const r = await dropkit(
      ['backfill', 'daily', '--project', p.dir, '--from', '2024-01-14', '--to', '2024-01-15T06:00:00Z', '--now', '2024-01-16T00:00:00Z', '--dry-run', '--json'],
      ENV,
    );
    const out = JSON.parse(r.stdout);
    expect([r.code, out.delivered, out.dryRun, out.noticesHeld]).toEqual([0, 2, true, 'dry run']);
    expect(hook.posts).toEqual([]);
    expect(existsSync(join(p.dir, 'out', 'daily'))).toBe(false);
    rmSync(out.scratch, { recursive: true, force: true });
  });

  it('run and backfill refuse --dry-run with --store, naming the command', async () => {
    const run = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--dry-run', '--store', 's3://bucket/drops'], ENV);
    const backfill = await dropkit(
      ['backfill', 'daily', '--project', p.dir, '--from', '2024-01-14', '--to', '2024-01-15', '--dry-run', '--store', 's3://bucket/drops'],
      ENV,
    );
    expect([run.code, run.stderr]).toEqual([2, expect.stringContaining('dropkit run --dry-run works in a scratch folder; it takes no --store')]);
    expect([backfill.code, backfill.stderr]).toEqual([2, expect.stringContaining('dropkit backfill --dry-run works in a scratch folder; it takes no --store')]);
    expect(hook.posts).toEqual([]);
  });

  it('holds notices of a run into another folder unless --notify, and says so', async () => {
    const r = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--out', scratch], ENV);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`notices held: --out ${scratch} is not the project's store; add --notify to tell partners anyway`);
    expect(hook.posts).toEqual([]);
    const sent = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--out', scratch, '--rerun', '--notify'], ENV);
    expect(sent.code).toBe(0);
    expect(hook.posts.map((b) => JSON.parse(b).type)).toEqual(['drop.delivered', 'data.update']);
  });

  it('holds notices of a run that acts at a future --now unless --notify', async () => {
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const r = await dropkit(['run', 'daily', '--project', p.dir, '--now', future, '--json'], ENV);
    const out = JSON.parse(r.stdout);
    // No data that far ahead: the run fails its row count, and not even the operators' outbox hears of it.
    expect([r.code, out.status, out.noticesHeld]).toEqual([3, 'validation-failed', `--now ${future} is in the future; add --notify to tell partners anyway`]);
    expect(hook.posts).toEqual([]);
    expect(existsSync(join(p.dir, 'out', '_outbox', 'events.jsonl'))).toBe(false);
  });
});
