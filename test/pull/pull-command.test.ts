import { validManifest } from '../helpers/manifest-fixture';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDurationArg } from '../../lib/cli/args';
import { PULL_USAGE, pullCommand } from '../../lib/cli/commands/pull';
import { exitCodeFor } from '../../lib/cli/exit-codes';
import { manifestProblems } from '../../lib/core/manifest-schema';
import { UsageError } from '../../lib/core/errors';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FILES: Record<string, Buffer> = {
  'part-00000.csv': Buffer.from('id,label\n1,a\n2,b\n'),
  'part-00001.csv': Buffer.from('id,label\n3,c\n'),
};
const ROWS: Record<string, number> = { 'part-00000.csv': 2, 'part-00001.csv': 1 };

/** A local drop folder: the data files and a manifest that validates against the schema. */
function writeDrop(dir: string): void {
  const manifest = validManifest(
    Object.entries(FILES).map(([path, b]) => ({
      path,
      format: 'csv' as const,
      compression: 'none' as const,
      rows: ROWS[path],
      bytes: b.length,
      sha256: sha(b),
    })),
    {
      partner: 'acme',
      query: { engine: 'duckdb', sqlSha256: sha(Buffer.from('select 1')), parameters: { partner_id: 'acme' }, executionId: null, bytesScanned: null },
      schema: {
        columns: [
          { name: 'id', type: 'INTEGER', nullable: false },
          { name: 'label', type: 'VARCHAR', nullable: true },
        ],
      },
    },
  );
  expect(manifestProblems(manifest)).toEqual([]);
  mkdirSync(dir, { recursive: true });
  for (const [path, b] of Object.entries(FILES)) writeFileSync(join(dir, path), b);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
}

/** Runs pullCommand, capturing what it writes to stdout and stderr. */
async function pull(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => ((stderr += String(chunk)), true));
  try {
    return { code: await pullCommand(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('dropkit pull', () => {
  let work: string;
  let drop: string;
  let dest: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'dropkit-pull-cli-'));
    drop = join(work, 'drop');
    dest = join(work, 'inbox');
    writeDrop(drop);
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('exits 0 and prints each file and the totals when every file verifies', async () => {
    const { code, stdout, stderr } = await pull([join(drop, 'manifest.json'), '--dest', dest]);
    expect(code).toBe(0);
    expect(stdout).toContain('✓ part-00000.csv: ok, 17 bytes, 2 rows');
    expect(stdout).toContain('daily run r1: 2 files, 30 bytes, 3 rows; 2 downloaded, 0 already present; all verified');
    expect(stderr).toBe('');
    expect(existsSync(join(dest, 'manifest.json'))).toBe(true);
  });

  it('exits 1 and names the corrupted file on stderr with the expected and actual sha256', async () => {
    const corrupt = Buffer.from('id,label\n1,a\n2,X\n');
    writeFileSync(join(drop, 'part-00000.csv'), corrupt);

    const { code, stdout, stderr } = await pull([join(drop, 'manifest.json'), '--dest', dest]);

    expect(code).toBe(1);
    expect(stderr).toContain('dropkit pull: FAILED part-00000.csv: content does not match the manifest');
    expect(stderr).toContain(`expected ${sha(FILES['part-00000.csv'])}, got ${sha(corrupt)}`);
    expect(stderr).not.toContain('part-00001.csv');
    expect(stdout).toContain('✓ part-00001.csv: ok');
    expect(stdout).toContain('1 FAILED; manifest.json not written');
    expect(existsSync(join(dest, 'part-00000.csv'))).toBe(false);
  });

  it('prints a single JSON object and nothing else on stdout with --json', async () => {
    writeFileSync(join(drop, 'part-00001.csv'), 'id,label\n3,Z\n');

    const { code, stdout, stderr } = await pull([join(drop, 'manifest.json'), '--dest', dest, '--json']);

    expect(code).toBe(1);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(stdout);
    expect(result).toEqual({
      status: 'failed',
      manifest: join(drop, 'manifest.json'),
      dest,
      files: [
        { path: 'part-00000.csv', status: 'ok', bytes: 17, sha256: sha(FILES['part-00000.csv']) },
        {
          path: 'part-00001.csv',
          status: 'failed',
          bytes: 13,
          sha256: sha(Buffer.from('id,label\n3,Z\n')),
          expectedBytes: 13,
          expectedSha256: sha(FILES['part-00001.csv']),
          error: expect.stringContaining('does not match'),
        },
      ],
    });
    expect(stderr).toBe('');
  });

  it('downloads by the links of a drop notification given with --links', async () => {
    const elsewhere = join(work, 'signed');
    mkdirSync(elsewhere);
    const event = {
      type: 'drop.delivered',
      files: Object.entries(FILES).map(([path, b], i) => {
        writeFileSync(join(elsewhere, `object-${i}`), b);
        return {
          path,
          format: 'csv',
          rows: ROWS[path],
          bytes: b.length,
          sha256: sha(b),
          link: { url: pathToFileURL(join(elsewhere, `object-${i}`)).href, expiresAt: null },
        };
      }),
    };
    for (const path of Object.keys(FILES)) rmSync(join(drop, path)); // nothing beside the manifest
    writeFileSync(join(work, 'event.json'), JSON.stringify(event));

    const { code, stdout } = await pull([join(drop, 'manifest.json'), '--dest', dest, '--links', join(work, 'event.json'), '--json']);

    expect(code).toBe(0);
    expect(JSON.parse(stdout).status).toBe('ok');
    expect(readFileSync(join(dest, 'part-00001.csv')).equals(FILES['part-00001.csv'])).toBe(true);
  });

  it('is a usage error (exit 2) without --dest, without a manifest, or with a links file that is not a drop notification', async () => {
    writeFileSync(join(work, 'not-an-event.json'), '{"type":"run.failed"}');
    for (const args of [
      [join(drop, 'manifest.json')],
      ['--dest', dest],
      [join(drop, 'manifest.json'), '--dest', dest, '--links', join(work, 'not-an-event.json')],
    ]) {
      const error = await pull(args).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(exitCodeFor(error)).toBe(2);
    }
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses a manifest that does not match the schema with an error naming the problem (exit 1)', async () => {
    const manifest = JSON.parse(readFileSync(join(drop, 'manifest.json'), 'utf8'));
    writeFileSync(join(drop, 'manifest.json'), JSON.stringify({ ...manifest, status: 'STAGED' }));
    const error = await pull([join(drop, 'manifest.json'), '--dest', dest]).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/not a valid dropkit manifest[\s\S]*status: Invalid input: expected "DELIVERED" \(got "STAGED"\)/);
    expect(exitCodeFor(error)).toBe(1);
  });
});

describe('dropkit pull time limits', () => {
  let server: http.Server;
  let base: string;
  let work: string;
  beforeAll(async () => {
    server = http.createServer(() => undefined); // accepts every request and never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => (work = mkdtempSync(join(tmpdir(), 'dropkit-pull-limits-cli-'))));
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('names the three limits and their defaults in the usage text', () => {
    expect(PULL_USAGE).toContain('[--connect-timeout 30s] [--idle-timeout 60s] [--deadline 6h]');
  });

  it('ends a pull from a server that never answers at --deadline, exit 1 with the reason', async () => {
    const error = await pull([`${base}/manifest.json`, '--dest', join(work, 'dest'), '--deadline', '300ms']).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/cannot fetch manifest .*the deadline of 0\.3 s \(--deadline\) passed/);
    expect(exitCodeFor(error)).toBe(1);
  });

  it('passes --connect-timeout to each request', async () => {
    // Three attempts of 0.1 s with the real backoff between them (0.5 s, 1.5 s) stay far below the 30 s default.
    const error = await pull([`${base}/manifest.json`, '--dest', join(work, 'dest'), '--connect-timeout', '0.1']).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/no answer within 0\.1 s \(--connect-timeout\).*after 3 attempts/);
  });

  it.each([
    ['--connect-timeout', 'soon'],
    ['--idle-timeout', '0'],
    ['--deadline', '-5m'],
    ['--deadline', '6 hours'],
  ])('refuses %s %s as a usage error (exit 2) naming the flag, the value and the forms it takes', async (flag, value) => {
    const error = await pull([`${base}/manifest.json`, '--dest', join(work, 'dest'), `${flag}=${value}`]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(exitCodeFor(error)).toBe(2);
    expect((error as Error).message).toContain(
      `${flag} ${value} is not a length of time; give seconds (30), a number with a unit (500ms, 30s, 5m, 6h) or ISO-8601 (PT30S)`,
    );
  });
});

describe('parseDurationArg', () => {
  it.each([
    ['30', 30_000],
    ['0.5', 500],
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['6h', 21_600_000],
    ['1d', 86_400_000],
    ['PT1M30S', 90_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDurationArg('--deadline', text)).toBe(ms);
  });
});
