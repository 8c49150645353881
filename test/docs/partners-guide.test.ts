import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { signWebhook } from '../../lib/adapters/webhook/webhook-signature';
import type { Manifest } from '../../lib/core/manifest';
import { BIN } from '../helpers/cli';
import { runFeed } from '../helpers/local-run';
import { serveFolder } from '../helpers/static-server';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

jest.setTimeout(60_000);

const GUIDE = readFileSync(join(__dirname, '..', '..', 'docs', 'partners.md'), 'utf8');

/** A code block of the guide marked `<!-- test: name -->`. */
function block(name: string): { lang: string; code: string } {
  const m = new RegExp(`<!-- test: ${name} -->\\n\`\`\`(\\w+)\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(GUIDE);
  if (!m) throw new Error(`docs/partners.md has no block marked <!-- test: ${name} -->`);
  return { lang: m[1], code: m[2] };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Labels with an empty string and a NULL, so readers must keep the two apart. */
const EVENTS = `SELECT * FROM (VALUES
  (1, 'a', 1.10::DECIMAL(10,2), TIMESTAMP '2024-01-14 08:00:00'),
  (2, '', 2.20, TIMESTAMP '2024-01-14 09:00:00'),
  (3, NULL, 3.30, TIMESTAMP '2024-01-14 10:00:00')
) t(id, label, amount, happened_at)`;

describe('the partner guide, run against a delivered drop served over HTTP', () => {
  let p: TempProject;
  let server: Awaited<ReturnType<typeof serveFolder>>;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let manifest: Manifest;
  let dropDir: string;

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), EVENTS);
    const { outcome, project } = await runFeed(p.dir, 'daily', { slot: '2024-01-15T06:00:00Z', now: '2024-01-15T07:00:00Z' });
    expect(outcome.status).toBe('delivered');
    manifest = outcome.manifest!;
    dropDir = join(project.outputDir, outcome.manifestKey!.replace(/manifest\.json$/, ''));
    server = await serveFolder(project.outputDir);
    work = mkdtempSync(join(tmpdir(), 'dropkit-partner-'));
    // The notice as received: locally its links are file URLs; here they point at the web server,
    // as an AWS deployment's point at the bucket.
    const delivered = readFileSync(join(project.outputDir, '_outbox/events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'drop.delivered');
    const event = JSON.parse(JSON.stringify(delivered).split(pathToFileURL(project.outputDir).href).join(server.url));
    writeFileSync(join(work, 'event.json'), JSON.stringify(event));
    // `dropkit` on the PATH, as after `npm install -g`.
    mkdirSync(join(work, 'bin'));
    writeFileSync(join(work, 'bin', 'dropkit'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(work, 'bin', 'dropkit'), 0o755);
    env = { MANIFEST_URL: `${server.url}/${outcome.manifestKey}`, EVENT_FILE: join(work, 'event.json'), PATH: `${join(work, 'bin')}:${process.env.PATH}` };
  });
  afterAll(async () => {
    await server?.close();
    p?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const sameAsDrop = (dir: string) => {
    for (const f of manifest.files) expect(readFileSync(join(dir, f.path))).toEqual(readFileSync(join(dropDir, f.path)));
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).runId).toBe(manifest.runId);
  };

  async function shell(name: string, cwd: string) {
    const { lang, code } = block(name);
    expect(lang).toBe('sh');
    mkdirSync(cwd, { recursive: true });
    return run('bash', ['-euo', 'pipefail', '-c', code], cwd, env);
  }

  it('downloads with curl beside the manifest and checks every SHA-256', async () => {
    const r = await shell('curl-download', join(work, 'curl'));
    expect(r).toMatchObject({ code: 0, stdout: 'part-00000.csv: OK\npart-00000.parquet: OK\n' });
    sameAsDrop(join(work, 'curl', 'drop'));
  });

  it('downloads with curl by the links of the notice', async () => {
    const r = await shell('curl-links', join(work, 'links'));
    expect(r).toMatchObject({ code: 0, stdout: 'part-00000.csv: OK\npart-00000.parquet: OK\n' });
    sameAsDrop(join(work, 'links', 'drop-from-links'));
  });

  it("downloads with Python's standard library, by the manifest URL and by the notice", async () => {
    const { lang, code } = block('python-download');
    expect(lang).toBe('python');
    writeFileSync(join(work, 'download_drop.py'), code);
    const byUrl = await run('python3', ['download_drop.py', env.MANIFEST_URL!, 'py-drop'], work, env);
    expect(byUrl).toMatchObject({ code: 0, stdout: 'part-00000.csv: 3 rows, sha256 ok\npart-00000.parquet: 3 rows, sha256 ok\n' });
    sameAsDrop(join(work, 'py-drop'));
    const byEvent = await run('python3', ['download_drop.py', env.EVENT_FILE!, 'py-drop-2'], work, env);
    expect(byEvent.code).toBe(0);
    sameAsDrop(join(work, 'py-drop-2'));
  });

  it('refuses, in Python, a file that does not match the manifest, and writes neither it nor the manifest', async () => {
    const tampered = join(work, 'tampered-site');
    cpSync(dropDir, tampered, { recursive: true });
    writeFileSync(join(tampered, 'part-00000.csv'), readFileSync(join(tampered, 'part-00000.csv'), 'utf8').replace('a', 'b'));
    const other = await serveFolder(tampered);
    try {
      const r = await run('python3', [join(work, 'download_drop.py'), `${other.url}/manifest.json`, 'bad'], work, env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('part-00000.csv: does not match the manifest');
      expect(existsSync(join(work, 'bad', 'part-00000.csv'))).toBe(false);
      expect(existsSync(join(work, 'bad', 'manifest.json'))).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('verifies a webhook signature in Python as dropkit signs it, and rejects a changed body', async () => {
    const { code } = block('verify-webhook');
    const body = readFileSync(env.EVENT_FILE!, 'utf8');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = signWebhook('s3cret', timestamp, body);
    const script = `${code}\nimport sys\nbody = open(sys.argv[1], 'rb').read()\nprint(verify('s3cret', sys.argv[2], body, sys.argv[3]), verify('s3cret', sys.argv[2], body + b' ', sys.argv[3]), verify('other', sys.argv[2], body, sys.argv[3]), verify('s3cret', '100', body, sys.argv[3]))\n`;
    writeFileSync(join(work, 'verify.py'), script);
    const r = await run('python3', ['verify.py', env.EVENT_FILE!, timestamp, signature], work, env);
    expect(r).toMatchObject({ code: 0, stdout: 'True False False False\n' });
  });

  it("reads the downloaded files with the guide's DuckDB SQL, keeping an empty string apart from NULL", async () => {
    // DuckDB's httpfs extension cannot be installed without internet here: the SQL runs on the downloaded files.
    const statements = block('duckdb')
      .code.split(/;\s*\n/)
      .map((s) => s.trim())
      .filter(Boolean);
    expect(statements).toHaveLength(2);
    const local = (sql: string) =>
      sql
        .replace("'https://…/part-00000.parquet'", `'${join(work, 'py-drop', 'part-00000.parquet')}'`)
        .replace("'https://…/part-00000.csv.gz'", `'${join(work, 'py-drop', 'part-00000.csv')}'`);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      for (const sql of statements) {
        const rows = (
          await c.runAndReadAll(`SELECT id::INTEGER AS id, label, label IS NULL AS is_null FROM (${local(sql).replace(/;$/, '')}) ORDER BY id`)
        ).getRowObjectsJson();
        expect(rows).toEqual([
          { id: 1, label: 'a', is_null: false },
          { id: 2, label: '', is_null: false },
          { id: 3, label: null, is_null: true },
        ]);
      }
      const names = (await c.runAndReadAll(`DESCRIBE ${local(statements[0])}`)).getRowObjectsJson().map((r) => r.column_name);
      expect(names).toEqual(manifest.schema.columns.map((col) => col.name));
    } finally {
      c.closeSync();
      db.closeSync();
    }
  });

  it('pulls with dropkit pull, by the manifest URL and by the notice', async () => {
    const r = await shell('dropkit-pull', join(work, 'pull'));
    expect(r.code).toBe(0);
    sameAsDrop(join(work, 'pull', 'pulled'));
    sameAsDrop(join(work, 'pull', 'pulled-by-links'));
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ status: 'ok' });
  });
});
