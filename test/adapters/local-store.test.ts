import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { LocalLinkSigner } from '../../lib/adapters/local/local-link-signer';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { PreconditionFailed } from '../../lib/core/ports/object-store';
import { objectStoreContract } from '../contract/object-store.contract';

async function freshDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'dropkit-local-store-'));
}

objectStoreContract('LocalStore (ObjectStore contract)', async () => {
  const dir = await freshDir();
  return { store: new LocalStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

/** Every file under a folder, relative, including the store's own temp and lock files. */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

function sha256(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}

describe('LocalStore (local only)', () => {
  let dir: string;
  let store: LocalStore;

  beforeEach(async () => {
    dir = await freshDir();
    store = new LocalStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lays keys out as files under the root', async () => {
    await store.put('feed/slot=20240101T000000Z/run=r1/manifest.json', '{}');
    expect(store.localPath('feed/slot=20240101T000000Z/run=r1/manifest.json')).toBe(path.join(dir, 'feed', 'slot=20240101T000000Z', 'run=r1', 'manifest.json'));
    expect(await readFile(path.join(dir, 'feed/slot=20240101T000000Z/run=r1/manifest.json'), 'utf8')).toBe('{}');
    expect(await allFiles(dir)).toEqual([path.join('feed', 'slot=20240101T000000Z', 'run=r1', 'manifest.json')]);
  });

  it('uses the hex SHA-256 of the content as etag, streamed or whole', async () => {
    const chunks = [Buffer.alloc(300_000, 1), Buffer.from('tail')];
    const streamed = await store.put('s', Readable.from(chunks));
    const whole = await store.put('w', Buffer.concat(chunks));
    expect(streamed.etag).toBe(sha256(Buffer.concat(chunks)));
    expect(whole.etag).toBe(streamed.etag);
  });

  it.each(['../x', '/abs', 'a//b', 'a/../../x', 'a/./b', 'a\\b', 'a\0b', '', 'a/', 'x.lock', 'd/.tmp-1'])('rejects the key %j, naming it', async (key) => {
    const shown = JSON.stringify(key);
    expect(() => store.localPath(key)).toThrow(shown);
    await expect(store.put(key, 'x')).rejects.toThrow(shown);
    await expect(store.get(key)).rejects.toThrow(shown);
    await expect(store.move('ok', key)).rejects.toThrow(shown);
  });

  it('rejects prefixes that would leave the root', async () => {
    const listing = async (prefix: string) => {
      for await (const _ of store.list(prefix)) void _;
    };
    await expect(listing('../')).rejects.toThrow('"../"');
    await expect(listing('/etc/')).rejects.toThrow('"/etc/"');
    await expect(store.deletePrefix('a/../..')).rejects.toThrow();
  });

  it('leaves no file and no temp file behind when a Readable body fails', async () => {
    async function* failing() {
      yield Buffer.alloc(100_000, 7);
      throw new Error('source broke');
    }
    await expect(store.put('f/g/out.csv', Readable.from(failing()))).rejects.toThrow('source broke');
    expect(await allFiles(dir)).toEqual([]);
    expect(await store.exists('f/g/out.csv')).toBe(false);
  });

  it('keeps the previous content when a replacing put fails midway', async () => {
    await store.put('k', 'old');
    async function* failing() {
      yield 'new but ';
      throw new Error('cut');
    }
    await expect(store.put('k', Readable.from(failing()))).rejects.toThrow('cut');
    expect((await store.get('k'))?.body.toString()).toBe('old');
    expect(await allFiles(dir)).toEqual(['k']);
  });

  it('lets exactly one of several concurrent ifMatch writers win', async () => {
    const { etag } = await store.put('feed/latest.json', 'v0');
    const writers = Array.from({ length: 8 }, (_, i) => store.put('feed/latest.json', `v1 from writer ${i}`, { precondition: { ifMatch: etag } }));
    const results = await Promise.allSettled(writers);
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const r of lost) expect(r.reason).toBeInstanceOf(PreconditionFailed);
    expect((await store.get('feed/latest.json'))?.body.toString()).toBe(`v1 from writer ${won[0]}`);
    expect(await allFiles(dir)).toEqual([path.join('feed', 'latest.json')]); // lock and temps gone
  });

  it('lets exactly one of several concurrent ifNoneMatch writers win', async () => {
    const writers = Array.from({ length: 8 }, (_, i) => store.put('feed/latest.json', `first from writer ${i}`, { precondition: { ifNoneMatch: '*' } }));
    const results = await Promise.allSettled(writers);
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailed);
    expect((await store.get('feed/latest.json'))?.body.toString()).toBe(`first from writer ${won[0]}`);
    expect(await allFiles(dir)).toEqual([path.join('feed', 'latest.json')]);
  });

  it('breaks a stale lock left by a dead writer', async () => {
    const { etag } = await store.put('p.json', 'v0');
    const lock = `${store.localPath('p.json')}.lock`;
    await writeFile(lock, 'dead writer');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(lock, twoMinutesAgo, twoMinutesAgo);
    await store.put('p.json', 'v1', { precondition: { ifMatch: etag } });
    expect((await store.get('p.json'))?.body.toString()).toBe('v1');
    // The dead writer's lock was taken over and released: no lock is left behind.
    expect(await allFiles(dir)).toEqual(['p.json']);
  });

  it('waits for a live lock, then sees what its holder wrote', async () => {
    const { etag } = await store.put('p.json', 'v0');
    const lock = `${store.localPath('p.json')}.lock`;
    await writeFile(lock, 'live writer');
    // The holder writes its version, then releases the lock.
    const holder = new Promise<void>((resolve) =>
      setTimeout(async () => {
        await writeFile(store.localPath('p.json'), 'v-live');
        await rm(lock, { force: true });
        resolve();
      }, 150),
    );
    // Our write was conditional on v0: once the holder is done, v0 is gone, so it must lose.
    await expect(store.put('p.json', 'v1', { precondition: { ifMatch: etag } })).rejects.toBeInstanceOf(PreconditionFailed);
    await holder;
    expect((await store.get('p.json'))?.body.toString()).toBe('v-live');
  });

  it('skips temp and lock files when listing', async () => {
    await store.put('a/x.csv', 'x');
    await store.put('b', 'b');
    await writeFile(path.join(dir, 'a', '.tmp-0123abcd'), 'partial');
    await writeFile(path.join(dir, 'a', 'x.csv.lock'), 'lock');
    await writeFile(path.join(dir, '.tmp-ffff'), 'partial');
    await writeFile(path.join(dir, 'b.lock'), 'lock');
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    expect(keys).toEqual(['a/x.csv', 'b']);
  });

  it('deletePrefix removes the emptied folders but not the root or other folders', async () => {
    await store.put('stage/run=1/a/b.csv', 'b');
    await store.put('stage/run=1/c.csv', 'c');
    await store.put('keep/d.csv', 'd');
    await mkdir(path.join(dir, 'stage', 'run=1', 'empty'), { recursive: true });
    await store.deletePrefix('stage/');
    expect(await readdir(dir)).toEqual(['keep']);
    await store.deletePrefix('');
    expect(await readdir(dir)).toEqual([]);
  });

  it('move fails rather than overwrite, even across folders', async () => {
    await store.put('from/x', 'new');
    await store.put('to/deep/x', 'old');
    await expect(store.move('from/x', 'to/deep/x')).rejects.toThrow('"to/deep/x"');
    expect((await store.get('to/deep/x'))?.body.toString()).toBe('old');
    expect((await store.get('from/x'))?.body.toString()).toBe('new');
  });

  it('rejects read of a missing key with an error naming it', async () => {
    await expect(store.read('missing/part.csv')).rejects.toThrow('"missing/part.csv"');
    await store.put('folder/inside', 'x');
    await expect(store.read('folder')).rejects.toThrow('"folder"');
    expect(await store.get('folder')).toBeUndefined();
    expect(await store.exists('folder')).toBe(false);
  });

  it('signs a file:// URL that resolves to the file and never expires', async () => {
    await store.put('drop/run=1/manifest.json', '{"ok":true}');
    const link = await new LocalLinkSigner(store).sign('drop/run=1/manifest.json', 900);
    expect(link.url.startsWith('file://')).toBe(true);
    expect(link.expiresAt).toBeNull();
    const file = fileURLToPath(link.url);
    expect(file).toBe(store.localPath('drop/run=1/manifest.json'));
    expect(await readFile(file, 'utf8')).toBe('{"ok":true}');
  });
});

describe('LocalStore.putFile', () => {
  it('takes over a file on the same disk: moved, not copied, with the given hash as etag', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'dropkit-putfile-'));
    try {
      const store = new LocalStore(path.join(root, 'store'));
      const file = path.join(root, 'export.csv');
      await writeFile(file, 'a,b\n1,2\n');
      const sha256 = createHash('sha256').update('a,b\n1,2\n').digest('hex');
      const stored = await store.putFile('feed/part-00000.csv', file);
      expect(stored).toEqual({ etag: sha256, sha256, bytes: 8 });
      await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readFile(store.localPath('feed/part-00000.csv'), 'utf8')).toBe('a,b\n1,2\n');
      expect((await store.get('feed/part-00000.csv'))?.etag).toBe(sha256);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
