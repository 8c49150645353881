import { validManifest } from '../helpers/manifest-fixture';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '../../lib/core/manifest';
import { pullDrop, PullError } from '../../lib/pull/pull-drop';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const GOOD = Buffer.from('id\n1\n2\n3\n');
const SLOW = Buffer.from('id\n4\n5\n6\n7\n8\n9\n');

function manifestFor(files: Record<string, Buffer>): Manifest {
  const listed = Object.entries(files).map(([path, b]) => ({
    path,
    format: 'csv' as const,
    compression: 'none' as const,
    rows: 3,
    bytes: b.length,
    sha256: sha(b),
  }));
  return validManifest(listed, { rowCount: 9 });
}

/** How the test server treats a path: serve it, never answer, or answer and then trickle one byte per interval. */
type Behaviour = { kind: 'serve'; body: Buffer } | { kind: 'chunked'; body: Buffer } | { kind: 'hang' } | { kind: 'trickle'; body: Buffer; everyMs: number };

describe('pullDrop time and size limits', () => {
  let server: http.Server;
  let base: string;
  let work: string;
  let dest: string;
  let routes: Record<string, Behaviour>;
  const timers = new Set<NodeJS.Timeout>();
  const noWait = { sleep: async () => undefined };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const route = routes[new URL(req.url!, 'http://x').pathname];
      if (!route) return void res.writeHead(404).end();
      if (route.kind === 'hang') return; // headers never come
      if (route.kind === 'serve') return void res.writeHead(200, { 'content-length': route.body.length }).end(route.body);
      if (route.kind === 'chunked') {
        res.writeHead(200, { 'transfer-encoding': 'chunked' }); // no length announced up front
        for (let i = 0; i < route.body.length; i += 1024) res.write(route.body.subarray(i, i + 1024));
        return void res.end();
      }
      res.writeHead(200, { 'content-length': route.body.length });
      res.flushHeaders();
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= route.body.length) return void (clearInterval(timer), res.end());
        res.write(route.body.subarray(sent, ++sent));
      }, route.everyMs);
      timers.add(timer);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'dropkit-pull-limits-'));
    dest = join(work, 'dest');
    routes = {};
  });
  afterEach(() => {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    rmSync(work, { recursive: true, force: true });
  });

  const serveDrop = (files: Record<string, Buffer>, overrides: Record<string, Behaviour> = {}) => {
    routes['/drop/manifest.json'] = { kind: 'serve', body: Buffer.from(JSON.stringify(manifestFor(files))) };
    for (const [p, b] of Object.entries(files)) routes[`/drop/${p}`] = overrides[p] ?? { kind: 'serve', body: b };
  };

  it('gives up on a manifest server that never answers after the connect timeout, well before the default', async () => {
    routes['/drop/manifest.json'] = { kind: 'hang' };
    const pull = pullDrop({ manifest: `${base}/drop/manifest.json`, dest, connectTimeoutMs: 150, ...noWait });
    await expect(pull).rejects.toThrow(PullError);
    await expect(pull).rejects.toThrow(/no answer within 0\.15 s \(--connect-timeout\)/);
    expect(existsSync(dest)).toBe(false);
  });

  it('fails a file whose server never answers after three attempts, each cut at the connect timeout, and still pulls the others', async () => {
    serveDrop({ 'a.csv': GOOD, 'b.csv': SLOW }, { 'a.csv': { kind: 'hang' } });
    const report = await pullDrop({ manifest: `${base}/drop/manifest.json`, dest, connectTimeoutMs: 150, ...noWait });
    expect(report.status).toBe('failed');
    expect(report.files[0]).toMatchObject({
      path: 'a.csv',
      status: 'failed',
      attempts: 3,
      error: expect.stringMatching(/no answer within 0\.15 s \(--connect-timeout\).*after 3 attempts/),
    });
    expect(report.files[1]).toMatchObject({ path: 'b.csv', status: 'ok' });
  });

  it('cuts a transfer that stalls longer than the idle timeout and keeps nothing of it', async () => {
    serveDrop({ 'a.csv': GOOD, 'b.csv': SLOW }, { 'b.csv': { kind: 'trickle', body: SLOW, everyMs: 1000 } });
    const report = await pullDrop({ manifest: `${base}/drop/manifest.json`, dest, idleTimeoutMs: 200, ...noWait });
    expect(report.files[1]).toMatchObject({
      path: 'b.csv',
      status: 'failed',
      attempts: 3,
      error: expect.stringMatching(/no data for 0\.2 s \(--idle-timeout\)/),
    });
    expect(existsSync(join(dest, 'b.csv'))).toBe(false);
    expect(existsSync(join(dest, 'manifest.json'))).toBe(false);
  });

  it('stops a trickle that never stalls long enough at the overall deadline, and does not start the files after it', async () => {
    serveDrop({ 'b.csv': SLOW, 'a.csv': GOOD }, { 'b.csv': { kind: 'trickle', body: SLOW, everyMs: 100 } });
    const report = await pullDrop({ manifest: `${base}/drop/manifest.json`, dest, idleTimeoutMs: 5000, deadlineMs: 600, ...noWait });
    expect(report.status).toBe('failed');
    expect(report.files[0]).toMatchObject({
      path: 'b.csv',
      status: 'failed',
      attempts: 1,
      error: expect.stringMatching(/deadline of 0\.6 s \(--deadline\) passed/),
    });
    expect(report.files[1]).toMatchObject({
      path: 'a.csv',
      status: 'failed',
      attempts: 0,
      error: expect.stringMatching(/not attempted: the deadline of 0\.6 s \(--deadline\) passed/),
    });
    expect(existsSync(join(dest, 'a.csv'))).toBe(false);
  });

  it('refuses a manifest larger than the cap by its Content-Length without reading it', async () => {
    routes['/drop/manifest.json'] = { kind: 'serve', body: Buffer.alloc(4096, 0x20) };
    const pull = pullDrop({ manifest: `${base}/drop/manifest.json`, dest, maxManifestBytes: 1024, ...noWait });
    await expect(pull).rejects.toThrow(/manifest .* is larger than 1024 bytes \(4096 bytes\), more than any dropkit manifest/);
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses an oversized manifest sent without a length after reading no more than the cap', async () => {
    routes['/drop/manifest.json'] = { kind: 'chunked', body: Buffer.alloc(64 * 1024, 0x20) };
    const pull = pullDrop({ manifest: `${base}/drop/manifest.json`, dest, maxManifestBytes: 4096, ...noWait });
    await expect(pull).rejects.toThrow(/is larger than 4096 bytes/);
  });

  it('refuses a local manifest file larger than the cap', async () => {
    const path = join(work, 'manifest.json');
    writeFileSync(path, Buffer.alloc(5000, 0x20));
    await expect(pullDrop({ manifest: path, dest, maxManifestBytes: 4096, ...noWait })).rejects.toThrow(/is larger than 4096 bytes/);
  });

  it('removes an older file of the same name when its new download fails verification', async () => {
    const corrupt = Buffer.from(GOOD);
    corrupt[3] ^= 1;
    serveDrop({ 'a.csv': GOOD, 'b.csv': SLOW }, { 'a.csv': { kind: 'serve', body: corrupt } });
    mkdirSync(dest);
    writeFileSync(join(dest, 'a.csv'), "an older drop's a.csv\n");

    const report = await pullDrop({ manifest: `${base}/drop/manifest.json`, dest, ...noWait });

    expect(report.files[0]).toMatchObject({ path: 'a.csv', status: 'failed' });
    expect(existsSync(join(dest, 'a.csv'))).toBe(false);
    expect(readFileSync(join(dest, 'b.csv')).equals(SLOW)).toBe(true);
  });

  it('removes an older file of the same name when its new download cannot be fetched at all', async () => {
    serveDrop({ 'a.csv': GOOD });
    delete routes['/drop/a.csv']; // 404
    mkdirSync(dest);
    writeFileSync(join(dest, 'a.csv'), 'stale');
    const report = await pullDrop({ manifest: `${base}/drop/manifest.json`, dest, ...noWait });
    expect(report.files[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('HTTP 404') });
    expect(existsSync(join(dest, 'a.csv'))).toBe(false);
  });
});
