import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectStore } from '../../lib/core/ports/object-store';
import { PreconditionFailed } from '../../lib/core/ports/object-store';

/**
 * What the backend under test honours. An S3 emulator that ignores conditional requests
 * (s3rver) cannot show that a store refuses to overwrite, so those cases are not registered for it.
 */
export interface StoreCapabilities {
  /** If-None-Match / If-Match on writes and copies are enforced by the backend. */
  readonly conditionalWrites: boolean;
  /**
   * If-None-Match on CopyObject (a move onto an existing key) is enforced too. moto honours it on
   * PutObject and CompleteMultipartUpload but not on CopyObject. Defaults to `conditionalWrites`.
   */
  readonly conditionalCopy?: boolean;
  /**
   * Listings come back in key order (UTF-8 bytes), as S3 documents. s3rver walks its folders
   * instead, so "a-c" comes after "a/b" and a paginated listing resumed after "a/b…" skips it.
   */
  readonly listsInKeyOrder?: boolean;
}

/**
 * What every ObjectStore must honour. Runs over each adapter (local folder, S3), so it uses only
 * the port's API and never assumes an etag format, only that equal content has equal etags.
 */
export function objectStoreContract(
  name: string,
  makeStore: () => Promise<{ store: ObjectStore; cleanup: () => Promise<void> }>,
  capabilities: StoreCapabilities = { conditionalWrites: true },
): void {
  // Registered or not per backend; `it.skip` would report them as pending instead.
  const ifConditionalCopy = (capabilities.conditionalCopy ?? capabilities.conditionalWrites) ? it : undefined;
  const describeIfConditional = capabilities.conditionalWrites ? describe : undefined;
  const ifKeyOrdered = capabilities.listsInKeyOrder === false ? undefined : it;
  describe(name, () => {
    let store: ObjectStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    async function text(key: string): Promise<string | undefined> {
      return (await store.get(key))?.body.toString('utf8');
    }

    async function keys(prefix: string): Promise<string[]> {
      const out: string[] = [];
      for await (const o of store.list(prefix)) out.push(o.key);
      return out;
    }

    async function readAll(r: Readable): Promise<Buffer> {
      const chunks: Buffer[] = [];
      for await (const c of r) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
      return Buffer.concat(chunks);
    }

    /** Deterministic, incompressible-looking bytes, produced in chunks so nothing buffers them all. */
    function bigChunks(totalBytes: number, chunkBytes = 64 * 1024): Buffer[] {
      const out: Buffer[] = [];
      let seed = createHash('sha256').update('dropkit').digest();
      for (let n = 0; n < totalBytes; n += chunkBytes) {
        const parts: Buffer[] = [];
        for (let m = 0; m < Math.min(chunkBytes, totalBytes - n); m += 32) {
          seed = createHash('sha256').update(seed).digest();
          parts.push(seed);
        }
        out.push(Buffer.concat(parts).subarray(0, Math.min(chunkBytes, totalBytes - n)));
      }
      return out;
    }

    describe('put / get / read', () => {
      it('round-trips a Buffer', async () => {
        const body = Buffer.from([0, 1, 2, 253, 254, 255]);
        const { etag } = await store.put('bin/data.bin', body);
        const got = await store.get('bin/data.bin');
        expect(got?.body.equals(body)).toBe(true);
        expect(got?.etag).toBe(etag);
      });

      it('round-trips a string as UTF-8', async () => {
        await store.put('s/t.json', '{"ü":"✓"}', { contentType: 'application/json' });
        expect(await text('s/t.json')).toBe('{"ü":"✓"}');
      });

      it('round-trips a multi-MB Readable and streams it back', async () => {
        const chunks = bigChunks(5 * 1024 * 1024 + 123);
        const whole = Buffer.concat(chunks);
        const { etag } = await store.put('big/part-00000.bin', Readable.from(chunks));
        const back = await readAll(await store.read('big/part-00000.bin'));
        expect(back.length).toBe(whole.length);
        expect(back.equals(whole)).toBe(true);
        // Not compared with a whole put of the same bytes: S3 gives multipart uploads other etags.
        expect((await store.get('big/part-00000.bin'))?.etag).toBe(etag);
      });

      it('gives equal etags for equal content and different etags otherwise', async () => {
        const a = await store.put('e/a', 'same');
        const b = await store.put('e/b', Buffer.from('same'));
        const c = await store.put('e/c', 'different');
        expect(a.etag).toBe(b.etag);
        expect(c.etag).not.toBe(a.etag);
      });

      it('replaces an object on an unconditional put', async () => {
        const first = await store.put('r/x', 'one');
        const second = await store.put('r/x', 'two');
        expect(await text('r/x')).toBe('two');
        expect(second.etag).not.toBe(first.etag);
        expect((await store.get('r/x'))?.etag).toBe(second.etag);
      });

      it('returns undefined from get and false from exists for a missing key', async () => {
        expect(await store.get('nope/missing.json')).toBeUndefined();
        expect(await store.exists('nope/missing.json')).toBe(false);
      });

      it('reports exists for a stored key', async () => {
        await store.put('x/here', 'y');
        expect(await store.exists('x/here')).toBe(true);
      });

      it('rejects read of a missing key', async () => {
        await expect(store.read('nope/missing.csv')).rejects.toThrow();
      });

      it('stores an empty object', async () => {
        await store.put('empty/0', '');
        expect((await store.get('empty/0'))?.body.length).toBe(0);
        expect(await store.exists('empty/0')).toBe(true);
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        // Put out of order; "a-c" < "a/b" < "a0" and "slot=2024/" < "slot=20240101" in key order
        // ("-" < "/" < "0"), unlike any folder walk.
        for (const k of ['a0', 'a/b', 'feed/slot=2024/y', 'a-c', 'feed/slot=20240101/x', 'feed/other/z', 'a/b2/deep/er']) {
          await store.put(k, `body of ${k}`);
        }
      });

      ifKeyOrdered?.('lists everything with an empty prefix, sorted by key', async () => {
        expect(await keys('')).toEqual(['a-c', 'a/b', 'a/b2/deep/er', 'a0', 'feed/other/z', 'feed/slot=2024/y', 'feed/slot=20240101/x']);
      });

      it('matches a prefix that ends mid-name', async () => {
        expect(await keys('feed/slot=2024')).toEqual(['feed/slot=2024/y', 'feed/slot=20240101/x']);
        expect(await keys('fe')).toEqual(['feed/other/z', 'feed/slot=2024/y', 'feed/slot=20240101/x']);
        expect(await keys('a/b')).toEqual(['a/b', 'a/b2/deep/er']);
      });

      it('matches a folder-like prefix, nested keys included', async () => {
        expect(await keys('feed/slot=2024/')).toEqual(['feed/slot=2024/y']);
        expect(await keys('a/')).toEqual(['a/b', 'a/b2/deep/er']);
      });

      it('lists nothing for an unmatched prefix', async () => {
        expect(await keys('zzz/')).toEqual([]);
        expect(await keys('feed/none')).toEqual([]);
      });

      it('gives each object its size in bytes', async () => {
        await store.put('sized/u', 'ü'); // two bytes in UTF-8
        const listed: { key: string; size: number }[] = [];
        for await (const o of store.list('sized/')) listed.push({ key: o.key, size: o.size });
        expect(listed).toEqual([{ key: 'sized/u', size: 2 }]);
      });
    });

    describe('move', () => {
      it('moves an object, creating the target folders, and the old key is gone', async () => {
        const { etag } = await store.put('staging/run=1/part-0.csv', 'rows');
        await store.move('staging/run=1/part-0.csv', 'drop/slot=1/run=1/part-0.csv');
        expect(await store.exists('staging/run=1/part-0.csv')).toBe(false);
        const got = await store.get('drop/slot=1/run=1/part-0.csv');
        expect(got?.body.toString()).toBe('rows');
        expect(got?.etag).toBe(etag);
      });

      ifConditionalCopy?.('fails onto an existing key and leaves both untouched', async () => {
        await store.put('m/from', 'from');
        await store.put('m/to', 'to');
        await expect(store.move('m/from', 'm/to')).rejects.toThrow();
        expect(await text('m/from')).toBe('from');
        expect(await text('m/to')).toBe('to');
      });

      it('fails for a missing source', async () => {
        await expect(store.move('m/none', 'm/target')).rejects.toThrow();
        expect(await store.exists('m/target')).toBe(false);
      });
    });

    describeIfConditional?.('preconditions', () => {
      it('ifNoneMatch "*" succeeds once and then throws PreconditionFailed', async () => {
        await store.put('p/latest.json', 'v1', { precondition: { ifNoneMatch: '*' } });
        await expect(store.put('p/latest.json', 'v2', { precondition: { ifNoneMatch: '*' } })).rejects.toBeInstanceOf(PreconditionFailed);
        expect(await text('p/latest.json')).toBe('v1');
      });

      it('ifMatch with the current etag replaces the object', async () => {
        const { etag } = await store.put('p/latest.json', 'v1');
        const next = await store.put('p/latest.json', 'v2', { precondition: { ifMatch: etag } });
        expect(await text('p/latest.json')).toBe('v2');
        expect((await store.get('p/latest.json'))?.etag).toBe(next.etag);
      });

      it('ifMatch with a stale etag throws PreconditionFailed and leaves the content untouched', async () => {
        const { etag: stale } = await store.put('p/latest.json', 'v1');
        await store.put('p/latest.json', 'v2');
        await expect(store.put('p/latest.json', 'v3', { precondition: { ifMatch: stale } })).rejects.toBeInstanceOf(PreconditionFailed);
        expect(await text('p/latest.json')).toBe('v2');
      });

      it('ifMatch on a missing key throws PreconditionFailed and creates nothing', async () => {
        const { etag } = await store.put('p/other', 'v1');
        await expect(store.put('p/absent.json', 'v1', { precondition: { ifMatch: etag } })).rejects.toBeInstanceOf(PreconditionFailed);
        expect(await store.exists('p/absent.json')).toBe(false);
      });
    });

    describe('delete', () => {
      it('deletes an object', async () => {
        await store.put('d/x', 'x');
        await store.delete('d/x');
        expect(await store.exists('d/x')).toBe(false);
      });

      it('is fine with a missing key', async () => {
        await expect(store.delete('d/never')).resolves.toBeUndefined();
      });

      it('deletePrefix removes only that prefix', async () => {
        for (const k of ['stage/run=1/a', 'stage/run=1/sub/b', 'stage/run=10/c', 'stage/run=2/d', 'keep/e']) {
          await store.put(k, k);
        }
        await store.deletePrefix('stage/run=1/');
        expect(await keys('')).toEqual(['keep/e', 'stage/run=10/c', 'stage/run=2/d']);
      });

      it('deletePrefix with a mid-name prefix matches like list', async () => {
        for (const k of ['stage/run=1/a', 'stage/run=10/c', 'stage/run=2/d']) await store.put(k, k);
        await store.deletePrefix('stage/run=1');
        expect(await keys('')).toEqual(['stage/run=2/d']);
      });

      it('deletePrefix of nothing is fine', async () => {
        await expect(store.deletePrefix('nothing/here/')).resolves.toBeUndefined();
      });
    });
  });
}
