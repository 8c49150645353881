import { validManifest } from '../helpers/manifest-fixture';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { manifestProblems } from '../../lib/core/manifest-schema';
import type { Manifest } from '../../lib/core/manifest';
import { linksFromEvent, pullDrop, PulledFile, PullError } from '../../lib/pull/pull-drop';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const CSV_0 = Buffer.from('id,label,amount\n1,a,1.10\n2,b,2.20\n3,c,3.30\n');
const CSV_1 = gzipSync(Buffer.from('id,label,amount\n4,d,4.40\n5,"e, f",5.50\n'));
const PARQUET = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)); // binary: every byte value matters
const DROP_FILES: Record<string, Buffer> = { 'part-00000.csv': CSV_0, 'part-00001.csv.gz': CSV_1, 'parquet/part-00000.parquet': PARQUET };
const ROWS: Record<string, number> = { 'part-00000.csv': 3, 'part-00001.csv.gz': 2, 'parquet/part-00000.parquet': 5 };
const DROP_PREFIX = '/drops/daily/slot=20240115T060000Z/run=r1';

/** A manifest that validates against schemas/manifest.v1.schema.json, listing the given files. */
function manifestFor(files: Record<string, Buffer>, paths: Record<string, string> = {}): Manifest {
  const listed = Object.entries(files).map(([p, b]) => ({
    path: paths[p] ?? p,
    format: p.endsWith('.parquet') ? ('parquet' as const) : ('csv' as const),
    compression: p.endsWith('.gz') ? ('gzip' as const) : ('none' as const),
    rows: ROWS[p] ?? 1,
    bytes: b.length,
    sha256: sha(b),
  }));
  return validManifest(listed, { rowCount: 10 });
}

/** Writes files under root, creating folders. */
function writeTree(root: string, files: Record<string, Buffer | string>): void {
  for (const [p, b] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), b);
  }
}

/** Every file under dir, relative, sorted. */
function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => join((e as any).parentPath ?? e.path, e.name).slice(dir.length + 1))
    .sort();
}

type Override = (path: string) => { status: number; body?: Buffer } | undefined;

describe('pullDrop', () => {
  let site: string; // what the server serves, by URL path
  let work: string;
  let dest: string;
  let server: http.Server;
  let base: string;
  let requests: string[];
  let override: Override | undefined;
  const manifestBytes = Buffer.from(JSON.stringify(manifestFor(DROP_FILES), null, 2));
  const manifestUrl = () => `${base}${DROP_PREFIX}/manifest.json`;
  const noWait = { sleep: async () => undefined };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const pathname = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
      requests.push(pathname);
      const special = override?.(pathname);
      if (special) {
        res.writeHead(special.status).end(special.body);
        return;
      }
      let body: Buffer;
      try {
        body = readFileSync(join(site, pathname));
      } catch {
        res.writeHead(404).end('no such key');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections(); // fetch keeps connections alive
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'dropkit-pull-'));
    site = join(work, 'site');
    dest = join(work, 'dest');
    writeTree(join(site, DROP_PREFIX), { ...DROP_FILES, 'manifest.json': manifestBytes });
    requests = [];
    override = undefined;
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('the fixture manifest validates against the published schema', () => {
    expect(manifestProblems(JSON.parse(manifestBytes.toString()))).toEqual([]);
  });

  it('downloads and verifies every file over HTTP and writes the manifest only after the last file', async () => {
    const manifestPresentAsFilesFinish: boolean[] = [];
    const report = await pullDrop({
      manifest: manifestUrl(),
      dest,
      ...noWait,
      onFile: () => manifestPresentAsFilesFinish.push(existsSync(join(dest, 'manifest.json'))),
    });

    expect(report).toMatchObject({
      status: 'ok',
      dest,
      feed: 'daily',
      runId: 'r1',
      manifestPath: join(dest, 'manifest.json'),
      totals: { files: 3, bytes: CSV_0.length + CSV_1.length + PARQUET.length, rows: 10 },
    });
    expect(report.files.map((f) => [f.path, f.status, f.sha256])).toEqual(Object.entries(DROP_FILES).map(([p, b]) => [p, 'ok', sha(b)]));
    for (const [p, b] of Object.entries(DROP_FILES)) expect(readFileSync(join(dest, p)).equals(b)).toBe(true);
    expect(manifestPresentAsFilesFinish).toEqual([false, false, false]);
    expect(readFileSync(join(dest, 'manifest.json')).equals(manifestBytes)).toBe(true); // byte for byte, so its hash matches latest.json's
    expect(listTree(dest)).toEqual(['manifest.json', 'parquet/part-00000.parquet', 'part-00000.csv', 'part-00001.csv.gz']);
  });

  it('names a corrupted file as failed with expected and actual sha256, leaves neither a final nor a partial file for it, and still verifies the others', async () => {
    const corrupt = Buffer.from(CSV_0);
    corrupt[20] ^= 0x01; // same length, one bit flipped
    override = (p) => (p.endsWith('/part-00000.csv') ? { status: 200, body: corrupt } : undefined);

    const report = await pullDrop({ manifest: manifestUrl(), dest, ...noWait });

    expect(report.status).toBe('failed');
    expect(report.manifestPath).toBeNull();
    const bad = report.files.find((f) => f.path === 'part-00000.csv')!;
    expect(bad).toMatchObject({
      status: 'failed',
      bytes: CSV_0.length,
      expectedBytes: CSV_0.length,
      sha256: sha(corrupt),
      expectedSha256: sha(CSV_0),
      attempts: 1,
    });
    expect(bad.error).toContain(`expected ${sha(CSV_0)}, got ${sha(corrupt)}`);
    expect(report.files.filter((f) => f.status === 'ok').map((f) => f.path)).toEqual(['part-00001.csv.gz', 'parquet/part-00000.parquet']);
    expect(listTree(dest)).toEqual(['parquet/part-00000.parquet', 'part-00001.csv.gz']); // no part-00000.csv*, no manifest.json
  });

  it('stops reading a file that is longer than the manifest says and keeps nothing of it', async () => {
    override = (p) => (p.endsWith('/part-00000.csv') ? { status: 200, body: Buffer.concat([CSV_0, Buffer.alloc(1 << 20)]) } : undefined);
    const report = await pullDrop({ manifest: manifestUrl(), dest, ...noWait });
    expect(report.files[0]).toMatchObject({ status: 'failed', sha256: null, error: expect.stringContaining(`more than the ${CSV_0.length} bytes`) });
    expect(listTree(dest).filter((p) => p.startsWith('part-00000.csv'))).toEqual([]);
  });

  it('retries a 503 after a backoff and verifies the file on the next attempt', async () => {
    let served503 = false;
    override = (p) => {
      if (!p.endsWith('/part-00001.csv.gz') || served503) return undefined;
      served503 = true;
      return { status: 503, body: Buffer.from('slow down') };
    };
    const waits: number[] = [];
    const report = await pullDrop({ manifest: manifestUrl(), dest, sleep: async (ms) => void waits.push(ms) });

    expect(report.status).toBe('ok');
    expect(report.files[1]).toMatchObject({ path: 'part-00001.csv.gz', status: 'ok', attempts: 2 });
    expect(requests.filter((p) => p.endsWith('/part-00001.csv.gz'))).toHaveLength(2);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
    expect(readFileSync(join(dest, 'part-00001.csv.gz')).equals(CSV_1)).toBe(true);
  });

  it('gives up on a file after three 5xx answers and says how many attempts it made', async () => {
    override = (p) => (p.endsWith('/part-00001.csv.gz') ? { status: 500 } : undefined);
    const report = await pullDrop({ manifest: manifestUrl(), dest, ...noWait });
    expect(report.files[1]).toMatchObject({ status: 'failed', attempts: 3, error: expect.stringMatching(/^HTTP 500 .*after 3 attempts/) });
    expect(requests.filter((p) => p.endsWith('/part-00001.csv.gz'))).toHaveLength(3);
  });

  it('fails a file the server answers with 404, without retrying it, and does not write the manifest', async () => {
    rmSync(join(site, DROP_PREFIX, 'parquet/part-00000.parquet'));
    const report = await pullDrop({ manifest: manifestUrl(), dest, ...noWait });
    expect(report.status).toBe('failed');
    expect(report.files[2]).toMatchObject({
      path: 'parquet/part-00000.parquet',
      status: 'failed',
      bytes: null,
      sha256: null,
      attempts: 1,
      error: expect.stringContaining('HTTP 404'),
    });
    expect(requests.filter((p) => p.endsWith('/part-00000.parquet'))).toHaveLength(1);
    expect(existsSync(join(dest, 'manifest.json'))).toBe(false);
  });

  it('reports a network error as a failed file, not a crash', async () => {
    const refused: typeof fetch = async (input, init) => {
      if (String(input).endsWith('.parquet')) throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      return fetch(input, init);
    };
    const report = await pullDrop({ manifest: manifestUrl(), dest, fetch: refused, ...noWait });
    expect(report.files[2]).toMatchObject({ status: 'failed', attempts: 3, error: expect.stringContaining('ECONNRESET') });
    expect(report.files.slice(0, 2).map((f) => f.status)).toEqual(['ok', 'ok']);
  });

  it('fetches each file by its link when links are given, instead of resolving it against the manifest URL', async () => {
    // Like presigned S3 links: the files live at unrelated, signed URLs; nothing sits beside the manifest.
    writeTree(join(site, 'signed'), { a: CSV_0, b: CSV_1, c: PARQUET });
    for (const p of Object.keys(DROP_FILES)) rmSync(join(site, DROP_PREFIX, p));
    const event = {
      type: 'drop.delivered',
      files: [
        { path: 'part-00000.csv', link: { url: `${base}/signed/a?X-Amz-Signature=s3cr3t`, expiresAt: null } },
        { path: 'part-00001.csv.gz', link: { url: `${base}/signed/b?X-Amz-Signature=s3cr3t`, expiresAt: null } },
        { path: 'parquet/part-00000.parquet', link: { url: `${base}/signed/c?X-Amz-Signature=s3cr3t`, expiresAt: null } },
      ],
    };

    const report = await pullDrop({ manifest: `${manifestUrl()}?X-Amz-Signature=s3cr3t`, dest, links: linksFromEvent(event), ...noWait });

    expect(report.status).toBe('ok');
    expect(requests).toEqual([`${DROP_PREFIX}/manifest.json`, '/signed/a', '/signed/b', '/signed/c']);
    for (const [p, b] of Object.entries(DROP_FILES)) expect(readFileSync(join(dest, p)).equals(b)).toBe(true);
    expect(JSON.stringify(report)).not.toContain('s3cr3t'); // presigned credentials stay out of reports
  });

  it('fails a file the links do not cover, naming why', async () => {
    const report = await pullDrop({ manifest: manifestUrl(), dest, links: { 'part-00000.csv': `${base}${DROP_PREFIX}/part-00000.csv` }, ...noWait });
    expect(report.files.map((f) => f.status)).toEqual(['ok', 'failed', 'failed']);
    expect(report.files[1].error).toMatch(/no link for this file/);
  });

  it('pulls a drop from a local manifest path without touching the network', async () => {
    const noNetwork: typeof fetch = async () => {
      throw new Error('no network expected');
    };
    const report = await pullDrop({ manifest: join(site, DROP_PREFIX, 'manifest.json'), dest, fetch: noNetwork, ...noWait });
    expect(report.status).toBe('ok');
    for (const [p, b] of Object.entries(DROP_FILES)) expect(readFileSync(join(dest, p)).equals(b)).toBe(true);
    expect(readFileSync(join(dest, 'manifest.json')).equals(manifestBytes)).toBe(true);
  });

  it('reports a local file missing from the drop as failed', async () => {
    rmSync(join(site, DROP_PREFIX, 'part-00000.csv'));
    const report = await pullDrop({ manifest: join(site, DROP_PREFIX, 'manifest.json'), dest, ...noWait });
    expect(report.files[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('no such file') });
    expect(report.files.slice(1).map((f) => f.status)).toEqual(['ok', 'ok']);
  });

  it.each([
    ['../evil.csv', /climbs out/],
    ['sub/../../evil.csv', /climbs out/],
    ['..\\evil.csv', /backslash/],
    ['./evil.csv', /"\." segment/],
    ['manifest.json', /overwrite the manifest/],
    ['/tmp/evil.csv', /files\[0\]\.path: .*must match pattern/], // the schema already refuses absolute paths
  ])('rejects a manifest listing %s without writing anything, inside or outside the destination', async (hostile, why) => {
    const hostileManifest = manifestFor(DROP_FILES, { 'part-00000.csv': hostile });
    writeTree(site, { 'hostile/manifest.json': JSON.stringify(hostileManifest), 'hostile/evil.csv': CSV_0, 'evil.csv': CSV_0 });
    const before = listTree(work);

    const pull = pullDrop({ manifest: `${base}/hostile/manifest.json`, dest: join(work, 'dest'), ...noWait });

    await expect(pull).rejects.toThrow(PullError);
    await expect(pull).rejects.toThrow(why);
    expect(listTree(work)).toEqual(before); // nothing new anywhere under work, dest included
    expect(requests).toEqual(['/hostile/manifest.json']);
  });

  it('rejects a manifest that does not match the schema, naming the problems', async () => {
    const { rowCount: _rowCount, ...withoutRowCount } = manifestFor(DROP_FILES);
    writeTree(site, { 'bad/manifest.json': JSON.stringify({ ...withoutRowCount, revision: 0 }) });
    const pull = pullDrop({ manifest: `${base}/bad/manifest.json`, dest, ...noWait });
    await expect(pull).rejects.toThrow(/rowCount: required, missing/);
    await expect(pull).rejects.toThrow(/revision: Too small: expected number to be >=1 \(got 0\)/);
    expect(existsSync(dest)).toBe(false);
  });

  it('fails with the HTTP status when the manifest itself cannot be fetched', async () => {
    await expect(pullDrop({ manifest: `${base}/nowhere/manifest.json`, dest, ...noWait })).rejects.toThrow(/cannot fetch manifest .*HTTP 404/);
  });

  it('resumes: a second pull skips verified files and replaces one whose content is wrong', async () => {
    const first = await pullDrop({ manifest: manifestUrl(), dest, ...noWait });
    expect(first.status).toBe('ok');
    writeFileSync(join(dest, 'part-00001.csv.gz'), 'tampered');
    requests = [];

    const second = await pullDrop({ manifest: manifestUrl(), dest, ...noWait });

    expect(second.files.map((f: PulledFile) => [f.path, f.status])).toEqual([
      ['part-00000.csv', 'skipped'],
      ['part-00001.csv.gz', 'ok'],
      ['parquet/part-00000.parquet', 'skipped'],
    ]);
    expect(requests).toEqual([`${DROP_PREFIX}/manifest.json`, `${DROP_PREFIX}/part-00001.csv.gz`]);
    expect(readFileSync(join(dest, 'part-00001.csv.gz')).equals(CSV_1)).toBe(true);
    expect(second.manifestPath).toBe(join(dest, 'manifest.json'));
  });

  it("removes a different drop's manifest from the destination before pulling, so it never vouches for a partial pull", async () => {
    writeTree(dest, { 'manifest.json': '{"runId":"an-older-drop"}' });
    override = (p) => (p.endsWith('.parquet') ? { status: 404 } : undefined);
    const report = await pullDrop({ manifest: manifestUrl(), dest, ...noWait });
    expect(report.status).toBe('failed');
    expect(existsSync(join(dest, 'manifest.json'))).toBe(false);
  });
});

describe('linksFromEvent', () => {
  it('maps each file path of a drop.delivered event to its link URL', () => {
    expect(
      linksFromEvent({
        type: 'drop.delivered',
        files: [
          { path: 'a.csv', link: { url: 'https://x/a' } },
          { path: 'b.csv', link: { url: 'https://x/b' } },
        ],
      }),
    ).toEqual({ 'a.csv': 'https://x/a', 'b.csv': 'https://x/b' });
  });

  it('refuses a run.failed event, which has no files to pull', () => {
    expect(() => linksFromEvent({ type: 'run.failed', error: {} })).toThrow(/got a run.failed event/);
  });
});
