import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { putHashed } from '../../lib/core/hash';
import type { ObjectStore } from '../../lib/core/ports/object-store';

/** A store whose put fails at once, before it reads the body (a refused write, a store gone). */
function refusingStore(): ObjectStore {
  return { put: () => Promise.reject(new Error('store unreachable')) } as unknown as ObjectStore;
}

/** Resolves once pending I/O callbacks and error events have had their turn. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('putHashed when the store fails before reading the body', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'put-hashed-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // The engine removes its scratch export once the put fails; the file stream's open can come after
  // that (a loaded machine). Its ENOENT must not become an uncaught exception that kills the process.
  it('rejects with the store error; a later error of the file stream is not uncaught', async () => {
    // Jest fails the test on an uncaught exception (here: ENOENT, open '…/removed-before-open.csv').
    const body = createReadStream(join(dir, 'removed-before-open.csv'));
    await expect(putHashed(refusingStore(), 'k/part-00000.csv', body, 'text/csv')).rejects.toThrow('store unreachable');
    await settle();
    expect(body.destroyed).toBe(true);
  });

  it('lets go of the file it did not read', async () => {
    const file = join(dir, 'part.csv');
    // Larger than the streams buffer between them: unread, the file would stay open.
    writeFileSync(file, Buffer.alloc(4 << 20, 'a'));
    const body = createReadStream(file);
    await expect(putHashed(refusingStore(), 'k/part.csv', body, 'text/csv')).rejects.toThrow('store unreachable');
    await settle();
    expect(body.destroyed).toBe(true);
  });

  it('hashes and counts the bytes a working store reads', async () => {
    let stored = Buffer.alloc(0);
    const store = {
      put: async (_key: string, b: Readable) => {
        for await (const chunk of b) stored = Buffer.concat([stored, chunk as Buffer]);
        return { etag: 'x' };
      },
    } as unknown as ObjectStore;
    const got = await putHashed(store, 'k', Readable.from([Buffer.from('a\n'), Buffer.from('1\n')]), 'text/csv');
    expect(stored.toString()).toBe('a\n1\n');
    expect(got).toEqual({ bytes: 4, sha256: createHash('sha256').update('a\n1\n').digest('hex') });
  });
});
