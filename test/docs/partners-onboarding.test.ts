import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, dropkit } from '../helpers/cli';
import { serveFolder } from '../helpers/static-server';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

jest.setTimeout(60_000);

const GUIDE = readFileSync(join(__dirname, '..', '..', 'docs', 'partners.md'), 'utf8');

/** A code block of the guide marked `<!-- test: name -->`. */
function block(name: string): string {
  const m = new RegExp(`<!-- test: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(GUIDE);
  if (!m) throw new Error(`docs/partners.md has no sh block marked <!-- test: ${name} -->`);
  return m[1];
}

function sh(code: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  mkdirSync(cwd, { recursive: true });
  return new Promise((resolve) =>
    execFile('bash', ['-euo', 'pipefail', '-c', code], { cwd, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** A stand-in link broker: checks the partner key, answers with the drop's links as the real one does. */
async function broker(key: string, answer: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${key}`) return void res.writeHead(403).end('{"error":"no partner identity"}');
    if (req.url !== '/feeds/daily/latest') return void res.writeHead(404).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("the partner guide's onboarding, followed by a partner who knows only the guide", () => {
  let p: TempProject;
  let server: Awaited<ReturnType<typeof serveFolder>>;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let delivered: { manifest: { link: { url: string } }; runId: string };

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    server = await serveFolder(join(p.dir, 'out'));
    // Served where the partner reads it: links point at the web server.
    p.write('dropkit.yaml', `${PROJECT_YAML}links:\n  baseUrl: ${server.url}/\n`);
    for (const day of ['14', '15']) {
      const r = await dropkit(['run', 'daily', '--project', p.dir, '--slot', `2024-01-${day}T06:00:00Z`, '--now', '2024-01-15T07:00:00Z']);
      expect(r.code).toBe(0);
    }
    delivered = readFileSync(join(p.dir, 'out', '_outbox', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'drop.delivered')
      .pop();
    work = mkdtempSync(join(tmpdir(), 'dropkit-onboarding-'));
    // `dropkit` on the PATH, and `npx dropkit-files` as the registry would resolve it.
    mkdirSync(join(work, 'bin'));
    writeFileSync(join(work, 'bin', 'dropkit'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    writeFileSync(join(work, 'bin', 'npx'), `#!/bin/sh\n[ "$1" = dropkit-files ] || exit 127\nshift\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(work, 'bin', 'dropkit'), 0o755);
    chmodSync(join(work, 'bin', 'npx'), 0o755);
    env = { LATEST_URL: `${server.url}/daily/latest.json`, PATH: `${join(work, 'bin')}:${process.env.PATH}` };
  });
  afterAll(async () => {
    await server?.close();
    p?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('finds the newest manifest from latest.json with curl and checks it is the one latest.json names', async () => {
    const r = await sh(block('latest-json'), join(work, 'latest'), env);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(readFileSync(join(work, 'latest', 'manifest.json'), 'utf8')).runId).toBe(delivered.runId);
  });

  it('downloads and verifies the newest drop in one line with npx dropkit-files pull', async () => {
    const r = await sh(block('npx-pull'), join(work, 'npx'), env);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(readFileSync(join(work, 'npx', 'newest', 'manifest.json'), 'utf8')).slot.id).toBe('20240115T060000Z');
  });

  it('gets fresh links from the link broker with its key and pulls by them', async () => {
    const b = await broker('acme.s3cret-key-0123456789', delivered);
    try {
      const denied = await sh(block('link-broker'), join(work, 'denied'), { ...env, BROKER_URL: b.url, DROPKIT_KEY: 'acme.wrong' });
      expect(denied.code).not.toBe(0);
      const r = await sh(block('link-broker'), join(work, 'broker'), { ...env, BROKER_URL: b.url, DROPKIT_KEY: 'acme.s3cret-key-0123456789' });
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(existsSync(join(work, 'broker', 'fresh', 'manifest.json'))).toBe(true);
    } finally {
      await b.close();
    }
  });

  it('says where to find each fact a partner needs to onboard', () => {
    for (const fact of [
      'latest.json',
      'feeds/{feed}/latest',
      'Bearer',
      'filter policy',
      '`partner` message attribute',
      'secret',
      'retention.days',
      'delay.owner',
      'delay.eta',
      'top-level `supersedes`',
      'partner=<your id>/',
    ])
      expect(GUIDE).toContain(fact);
  });
});
