import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { hashWhileWritten, tailFile, TailMismatchError } from '../../lib/adapters/duckdb/tail-file';
import { LocalStore } from '../../lib/adapters/local/local-store';
import type { CsvDialect } from '../../lib/core/feed/feed-schema';
import { FaultyStore } from '../helpers/faulty-store';
import { openTestEngine, stage } from '../helpers/engine';

/** A writer that appends `chunks` one by one, yielding to the reader between them. */
async function appendSlowly(path: string, chunks: Buffer[], pauseMs = 3): Promise<void> {
  for (const chunk of chunks) {
    await appendFile(path, chunk);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('tailFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dropkit-tail-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads every byte of a file while it is written, in small reads, and ends with the writer', async () => {
    const path = join(dir, 'out.csv');
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.from(`row ${i},${'x'.repeat(i * 37)}\n`));
    // The file appears only once the writer starts: the tail waits for it.
    const written = new Promise((resolve) => setTimeout(resolve, 5)).then(() => appendSlowly(path, chunks));
    const reads: number[] = [];
    const tail = tailFile(path, written, { chunkBytes: 64, pollMs: 1 });
    tail.on('data', (c: Buffer) => reads.push(c.length));
    const got = await collect(tail);
    const file = await readFile(path);
    expect(sha(got)).toBe(sha(file));
    expect(got.length).toBe(chunks.reduce((n, c) => n + c.length, 0));
    expect(Math.max(...reads)).toBeLessThanOrEqual(64);
  });

  it('hashes a file while it is written, through one reused buffer, to the hash of the finished file', async () => {
    const path = join(dir, 'hashed.csv');
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.from(`row ${i},${'y'.repeat(i * 53)}\n`));
    const written = new Promise((resolve) => setTimeout(resolve, 5)).then(() => appendSlowly(path, chunks));
    const hashed = await hashWhileWritten(path, written, { chunkBytes: 100, pollMs: 1 });
    const file = await readFile(path);
    expect(hashed).toEqual({ sha256: sha(file), bytes: file.length });
  });

  it('shows an inspector every byte before it passes, and the end only of a tail that read exactly the file', async () => {
    const path = join(dir, 'inspected.csv');
    const chunks = Array.from({ length: 20 }, (_, i) => Buffer.from(`row ${i},${'z'.repeat(i * 41)}\n`));
    const written = new Promise((resolve) => setTimeout(resolve, 5)).then(() => appendSlowly(path, chunks));
    const seen: Buffer[] = [];
    let ends = 0;
    // Copied: hashWhileWritten reuses its buffer.
    const inspect = { chunk: (b: Buffer) => void seen.push(Buffer.from(b)), end: () => void ends++ };
    const hashed = await hashWhileWritten(path, written, { chunkBytes: 100, pollMs: 1, inspect });
    const file = await readFile(path);
    expect(Buffer.concat(seen).equals(file)).toBe(true);
    expect([hashed.bytes, ends]).toEqual([file.length, 1]);

    const cut = join(dir, 'cut-inspected.csv');
    await writeFile(cut, 'a,b\n1,2\n3,4\n');
    const truncated = new Promise((resolve) => setTimeout(resolve, 10)).then(() => truncate(cut, 4));
    let cutEnds = 0;
    await expect(collect(tailFile(cut, truncated, { pollMs: 1, inspect: { chunk: () => undefined, end: () => void cutEnds++ } }))).rejects.toThrow(
      TailMismatchError,
    );
    expect(cutEnds).toBe(0);
  });

  it('stops at the error an inspector throws', async () => {
    const path = join(dir, 'stopped.csv');
    await writeFile(path, 'a,b\n1,2\n');
    const inspect = {
      chunk: () => {
        throw new Error('seen enough');
      },
      end: () => undefined,
    };
    await expect(collect(tailFile(path, Promise.resolve(), { inspect }))).rejects.toThrow('seen enough');
  });

  it('reads a file finished before the tail started', async () => {
    const path = join(dir, 'done.csv');
    await writeFile(path, 'a,b\n1,2\n');
    expect((await collect(tailFile(path, Promise.resolve()))).toString()).toBe('a,b\n1,2\n');
  });

  it("fails with the writer's error when the writer fails", async () => {
    const path = join(dir, 'failed.csv');
    await writeFile(path, 'a,b\n');
    const written = new Promise((_, reject) => setTimeout(() => reject(new Error('COPY failed: disk full')), 5));
    await expect(collect(tailFile(path, written, { pollMs: 1 }))).rejects.toThrow('COPY failed: disk full');
  });

  it('says the file changed when its writer replaced it by another file', async () => {
    const path = join(dir, 'replaced.csv');
    await writeFile(path, 'first version, long enough\n');
    const written = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await writeFile(join(dir, 'tmp'), 'second\n');
      await rename(join(dir, 'tmp'), path);
    })();
    await expect(collect(tailFile(path, written, { pollMs: 1 }))).rejects.toThrow(TailMismatchError);
  });

  it('says the file changed when it ends shorter than what was read', async () => {
    const path = join(dir, 'cut.csv');
    await writeFile(path, 'a,b\n1,2\n3,4\n');
    const written = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await truncate(path, 4);
    })();
    await expect(collect(tailFile(path, written, { pollMs: 1 }))).rejects.toThrow(/4 bytes, 12 read/);
  });

  it('says so when the writer finished without writing the file', async () => {
    await expect(collect(tailFile(join(dir, 'never.csv'), Promise.resolve()))).rejects.toThrow(TailMismatchError);
  });
});

describe('the DuckDB CSV export', () => {
  const dialect: CsvDialect = { delimiter: ',', quote: '"', quoting: 'needed', header: true, nullText: '', lineEnding: 'lf', encoding: 'utf-8', gzip: false };
  // Enough rows that DuckDB writes the file in many buffers while the tail reads it.
  const SQL = `SELECT i AS id, 'note ' || i AS note, md5(i::VARCHAR) AS token FROM range(300000) t(i)`;

  afterEach(() => jest.restoreAllMocks());

  it('hands a local store the hash it took while DuckDB wrote, so the store does not read the file again', async () => {
    const t = await openTestEngine({ threads: 2 });
    try {
      const putFile = jest.spyOn(LocalStore.prototype, 'putFile');
      const staged = await stage(t.engine, { runId: 'tail', sql: SQL });
      const [file] = (await t.engine.exportCsv(staged, { dialect, prefix: 'out/' }))!;
      const stored = await readFile(t.store.localPath(file.key));
      expect(file.sha256).toBe(sha(stored));
      expect(file.bytes).toBe(stored.length);
      expect(file.rows).toBe(300000);
      const csvCall = putFile.mock.calls.find(([key]) => key === file.key);
      expect(csvCall?.[2]?.hashed).toEqual({ sha256: sha(stored), bytes: stored.length });
    } finally {
      await t.cleanup();
    }
  });

  for (const [gzip, hash] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`uploads to a store that is not a local folder while DuckDB writes: ${gzip ? 'gzip' : 'plain'}${hash ? ', a # in row 5000 (written again, quoted in SQL)' : ''}`, async () => {
      const root = await mkdtemp(join(tmpdir(), 'dropkit-tail-store-'));
      const inner = new LocalStore(root);
      // Not a LocalStore: the engine works on scratch copies and uploads through the port.
      const engine = await DuckDbEngine.open({ store: new FaultyStore(inner), workDir: join(root, 'work'), threads: 2 });
      try {
        const sql = hash ? SQL.replace(`'note ' || i`, `'note ' || i || CASE WHEN i = 5000 THEN '#' ELSE '' END`) : SQL;
        const staged = await stage(engine, { runId: 'tail', sql });
        const [file] = (await engine.exportCsv(staged, { dialect: { ...dialect, gzip }, prefix: 'out/' }))!;
        const stored = await readFile(inner.localPath(file.key));
        expect(file.sha256).toBe(sha(stored));
        expect(file.bytes).toBe(stored.length);
        expect(engine.csvParts).toEqual(hash ? { native: 0, sql: 1, retried: 1 } : { native: 1, sql: 0, retried: 0 });
        const text = (gzip ? gunzipSync(stored) : stored).toString('utf8');
        expect(text.startsWith('id,note,token\n0,note 0,cfcd208495d565ef66e7dff9f98764da\n')).toBe(true);
        // Unquoted, as the Node writer writes it (DuckDB by itself would quote it).
        if (hash) expect(text).toContain('\n5000,note 5000#,');
        expect(text.split('\n').length).toBe(300000 + 2);
      } finally {
        await engine.close();
        await rm(root, { recursive: true, force: true });
      }
    });
  }
});
