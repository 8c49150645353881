import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { link, lstat, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectStore, Precondition, StoredObject } from '../../core/ports/object-store';
import { PreconditionFailed } from '../../core/ports/object-store';
import { sleep } from '../../core/retry';
import { processAlive, writerIsDead, writerTag } from './process-identity';

/** A lock this old belongs to a writer that died; it may be broken. */
const STALE_LOCK_MS = 60_000;
/** Conditional writes hold the lock only for a hash and a rename, so a short wait suffices. */
const LOCK_ATTEMPTS = 100;
const LOCK_SLEEP_MS = [10, 40] as const;

const TMP_PREFIX = '.tmp-';
const LOCK_SUFFIX = '.lock';

/** Names the store uses for its own bookkeeping; never objects, so `list` can skip them. */
function isReservedName(name: string): boolean {
  return name.startsWith(TMP_PREFIX) || name.endsWith(LOCK_SUFFIX);
}

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** Path-lookup failures that mean "there is no object at this key". */
function isAbsent(e: unknown): boolean {
  const code = errno(e);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

/** S3 orders keys by their UTF-8 bytes; do the same so both adapters list identically. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function invalidName(what: string, value: string, why: string): Error {
  return new Error(`invalid object ${what} ${JSON.stringify(value)}: ${why}`);
}

/**
 * Splits a key (or the folder part of a prefix) into path segments, refusing anything that could
 * resolve outside the root or alias another key.
 */
function keySegments(key: string, what = 'key', shown = key): string[] {
  // `shown` lets a prefix check report the whole prefix, not just its folder part.
  const invalid = (why: string) => invalidName(what, String(shown), why);
  if (typeof key !== 'string' || key === '') throw invalid('must not be empty');
  if (key.includes('\0')) throw invalid('must not contain NUL');
  if (key.includes('\\')) throw invalid('must not contain backslashes; keys use "/"');
  if (key.startsWith('/') || /^[A-Za-z]:/.test(key)) throw invalid('must be relative to the store root');
  if (key.includes('//')) throw invalid('must not contain "//"');
  const segments = key.split('/');
  for (const s of segments) {
    if (s === '') throw invalid('must not end with "/"');
    if (s === '.' || s === '..') throw invalid('must not contain "." or ".." segments');
    if (isReservedName(s)) throw invalid(`names starting with "${TMP_PREFIX}" or ending with "${LOCK_SUFFIX}" are reserved`);
  }
  return segments;
}

async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  // 1 MiB reads: a third less CPU than the 64 KiB default on files of hundreds of MB.
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function syncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Best effort: makes a rename/link durable. Not every platform can fsync a directory. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    /* durability hint only */
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

async function unlinkQuietly(p: string): Promise<void> {
  await unlink(p).catch((e: unknown) => {
    if (errno(e) !== 'ENOENT') throw e;
  });
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  // FileHandle.write may write fewer bytes than asked.
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

async function sha256OfFile(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * An ObjectStore over a local folder laid out exactly like the bucket: key `a/b/c.json` is the
 * file `<root>/a/b/c.json`. ETags are the hex SHA-256 of the content.
 */
export class LocalStore implements ObjectStore {
  readonly kind = 'local';
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Absolute path of the file holding `key`; the local engine writes files straight there. */
  localPath(key: string): string {
    return path.join(this.root, ...keySegments(key));
  }

  async put(key: string, body: Buffer | string | Readable, options?: { contentType?: string; precondition?: Precondition }): Promise<{ etag: string }> {
    // contentType has no place on a plain file; it is accepted for the port's sake.
    const finalPath = this.localPath(key);
    const dir = path.dirname(finalPath);
    const { tmpPath, etag } = await this.writeTemp(dir, body);
    try {
      const pre = options?.precondition;
      if (pre && 'ifNoneMatch' in pre) {
        // link() refuses an existing target atomically, unlike rename().
        try {
          await link(tmpPath, finalPath);
        } catch (e) {
          if (errno(e) === 'EEXIST') throw new PreconditionFailed(key);
          throw e;
        }
        await unlinkQuietly(tmpPath);
      } else if (pre && 'ifMatch' in pre) {
        const release = await this.acquireLock(`${finalPath}${LOCK_SUFFIX}`, key);
        try {
          let current: string;
          try {
            current = await sha256OfFile(finalPath);
          } catch (e) {
            if (isAbsent(e)) throw new PreconditionFailed(key);
            throw e;
          }
          if (current !== pre.ifMatch) throw new PreconditionFailed(key);
          await rename(tmpPath, finalPath);
        } finally {
          await release();
        }
      } else {
        await rename(tmpPath, finalPath);
      }
    } catch (e) {
      await unlinkQuietly(tmpPath).catch(() => undefined);
      throw e;
    }
    await fsyncDir(dir);
    return { etag };
  }

  /**
   * Takes over a file on the same disk by renaming it: no second copy of a large export. It is
   * hashed and fsynced at once (both wait on the disk), then renamed into place.
   */
  async putFile(
    key: string,
    file: string,
    options?: { contentType?: string; hashed?: { sha256: string; bytes: number } },
  ): Promise<{ etag: string; sha256: string; bytes: number }> {
    const finalPath = this.localPath(key);
    const dir = path.dirname(finalPath);
    // `hashed`: the caller hashed these very bytes as they were written (the DuckDB engine's CSV).
    const [{ sha256, bytes }] = await Promise.all([options?.hashed ?? hashFile(file), syncFile(file)]);
    await mkdir(dir, { recursive: true });
    try {
      await rename(file, finalPath);
    } catch (e) {
      if (errno(e) !== 'EXDEV') throw e;
      // Another disk: copy through put, then drop the original as a move would.
      await this.put(key, createReadStream(file), options);
      await unlinkQuietly(file);
    }
    await fsyncDir(dir);
    return { etag: sha256, sha256, bytes };
  }

  async get(key: string): Promise<{ body: Buffer; etag: string } | undefined> {
    let body: Buffer;
    try {
      body = await readFile(this.localPath(key));
    } catch (e) {
      if (isAbsent(e)) return undefined;
      throw e;
    }
    return { body, etag: createHash('sha256').update(body).digest('hex') };
  }

  async read(key: string): Promise<Readable> {
    const p = this.localPath(key);
    // Open first so a missing key rejects here rather than as a stream error later.
    let fh: FileHandle;
    try {
      fh = await open(p, 'r');
    } catch (e) {
      if (isAbsent(e)) throw new Error(`no object at key ${JSON.stringify(key)} in ${this.root}`, { cause: e });
      throw e;
    }
    // open() succeeds on a directory on Linux; a folder is not an object.
    if (!(await fh.stat()).isFile()) {
      await fh.close();
      throw new Error(`no object at key ${JSON.stringify(key)} in ${this.root}`);
    }
    return fh.createReadStream();
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.localPath(key))).isFile();
    } catch (e) {
      if (isAbsent(e)) return false;
      throw e;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    // Collected then sorted: key order ("a-b" < "a/b") differs from any directory walk order.
    const { files } = await this.scan(prefix);
    files.sort((a, b) => compareKeys(a.key, b.key));
    yield* files;
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    const from = this.localPath(fromKey);
    const to = this.localPath(toKey);
    // link + unlink rather than rename: rename would silently replace an existing target.
    for (let attempt = 0; ; attempt++) {
      await mkdir(path.dirname(to), { recursive: true });
      try {
        await link(from, to);
        break;
      } catch (e) {
        const code = errno(e);
        if (code === 'EEXIST') {
          throw new Error(`cannot move ${JSON.stringify(fromKey)} to ${JSON.stringify(toKey)}: the target exists`, { cause: e });
        }
        if (!(await this.exists(fromKey))) {
          throw new Error(`cannot move ${JSON.stringify(fromKey)}: no object at that key`, { cause: e });
        }
        // The target folder vanished under a concurrent deletePrefix: recreate it and retry.
        if (code !== 'ENOENT' || attempt >= 3) throw e;
      }
    }
    await unlinkQuietly(from);
    await fsyncDir(path.dirname(to));
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.localPath(key));
    } catch (e) {
      if (!isAbsent(e)) throw e;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const { files, dirs } = await this.scan(prefix);
    const candidates = new Set(dirs);
    for (const f of files) {
      try {
        await unlink(path.join(this.root, ...f.key.split('/')));
      } catch (e) {
        if (!isAbsent(e)) throw e;
      }
      // The folders that held a deleted object go too once empty, as a bucket has no folders.
      const segs = f.key.split('/');
      for (let i = segs.length - 1; i > 0; i--) candidates.add(segs.slice(0, i).join('/'));
    }
    // Deepest first, so a parent is tried after its children are gone.
    const ordered = [...candidates].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const d of ordered) {
      try {
        await rmdir(path.join(this.root, ...d.split('/')));
      } catch (e) {
        const code = errno(e);
        // Not empty (other objects, or an in-flight temp file) or already gone: leave it.
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      }
    }
  }

  /** Writes the body to a fresh temp file beside the target, fsynced, hashing on the way. */
  private async writeTemp(dir: string, body: Buffer | string | Readable): Promise<{ tmpPath: string; etag: string }> {
    // The writer's pid and namespace in the name: the next run removes it at once if this process dies.
    const tmpPath = path.join(dir, `${TMP_PREFIX}${writerTag()}-${randomBytes(8).toString('hex')}`);
    let fh: FileHandle | undefined;
    for (let attempt = 0; !fh; attempt++) {
      await mkdir(dir, { recursive: true });
      try {
        fh = await open(tmpPath, 'wx');
      } catch (e) {
        // The folder vanished under a concurrent deletePrefix: recreate it and retry.
        if (errno(e) !== 'ENOENT' || attempt >= 3) throw e;
      }
    }
    const hash = createHash('sha256');
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
        hash.update(buf);
        await writeAll(fh, buf);
      } else {
        // for-await pulls one chunk at a time, so memory stays flat whatever the size.
        for await (const chunk of body) {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array);
          hash.update(buf);
          await writeAll(fh, buf);
        }
      }
      await fh.sync();
      await fh.close();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlinkQuietly(tmpPath).catch(() => undefined);
      throw e;
    }
    return { tmpPath, etag: hash.digest('hex') };
  }

  /**
   * Takes the exclusive lock file for a conditional write. Returns its release, which removes the
   * lock only while it still holds our token (a stale-lock breaker may have replaced it).
   */
  private async acquireLock(lockPath: string, key: string): Promise<() => Promise<void>> {
    const token = `${writerTag()}-${randomBytes(8).toString('hex')}`;
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      try {
        const fh = await open(lockPath, 'wx');
        try {
          await fh.writeFile(token);
          await fh.close();
        } catch (e) {
          await fh.close().catch(() => undefined);
          await unlinkQuietly(lockPath).catch(() => undefined);
          throw e;
        }
        return async () => {
          try {
            if ((await readFile(lockPath, 'utf8')) === token) await unlinkQuietly(lockPath);
          } catch (e) {
            if (errno(e) !== 'ENOENT') throw e;
          }
        };
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e;
      }
      try {
        const st = await stat(lockPath);
        // A lock whose writer is provably dead (a process of our namespace that is gone) goes at once.
        const holder = await readFile(lockPath, 'utf8').catch(() => '');
        if (writerIsDead(holder) || Date.now() - st.mtimeMs > STALE_LOCK_MS) {
          // Its writer died holding it. Two breakers racing here is possible but needs both to
          // see the same minute-old lock at once; accepted for a single-machine store.
          await unlinkQuietly(lockPath);
          continue;
        }
      } catch (e) {
        if (errno(e) === 'ENOENT') continue; // released meanwhile: try again at once
        throw e;
      }
      await sleep(LOCK_SLEEP_MS[0] + Math.random() * (LOCK_SLEEP_MS[1] - LOCK_SLEEP_MS[0]));
    }
    throw new Error(`object ${JSON.stringify(key)} is locked by another writer (${lockPath}); gave up waiting`);
  }

  /**
   * What writers that died left (the next run removes them): temp files and lock files whose
   * writer is provably dead (named after a process of our namespace that is gone), or untouched
   * since `cutoffMs` (temp files) or for longer than a lock may be held (locks).
   */
  async deadWriterFiles(cutoffMs: number, isAlive: (pid: number) => boolean = processAlive): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isAbsent(e)) return;
        throw e;
      }
      for (const ent of entries) {
        const p = path.join(dir, ent.name);
        if (ent.isDirectory()) await walk(p);
        else if (ent.isFile() && ent.name.startsWith(TMP_PREFIX)) {
          const st = await lstat(p).catch(() => undefined);
          if (st && (writerIsDead(ent.name, isAlive) || st.mtimeMs < cutoffMs)) found.push(p);
        } else if (ent.isFile() && ent.name.endsWith(LOCK_SUFFIX)) {
          const st = await lstat(p).catch(() => undefined);
          const holder = await readFile(p, 'utf8').catch(() => '');
          if (st && (writerIsDead(holder, isAlive) || Date.now() - st.mtimeMs > STALE_LOCK_MS)) found.push(p);
        }
      }
    };
    await walk(this.root);
    return found;
  }

  /** Removes a file the store left behind, and the folders it leaves empty (a bucket has no folders). */
  async removeLeftover(file: string): Promise<void> {
    await unlinkQuietly(file);
    for (let dir = path.dirname(file); dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or gone): its parents are not empty either
      }
    }
  }

  /**
   * Finds every object whose key starts with `prefix` (which may end mid-name, like S3), plus the
   * folders lying wholly inside the prefix. Walks only the folders that can hold matches.
   */
  private async scan(prefix: string): Promise<{ files: StoredObject[]; dirs: string[] }> {
    if (typeof prefix !== 'string') throw invalidName('prefix', String(prefix), 'must be a string');
    if (prefix.includes('\0')) throw invalidName('prefix', prefix, 'must not contain NUL');
    if (prefix.includes('\\')) throw invalidName('prefix', prefix, 'must not contain backslashes; keys use "/"');
    if (prefix.startsWith('/')) throw invalidName('prefix', prefix, 'must be relative to the store root');
    if (prefix.includes('//')) throw invalidName('prefix', prefix, 'must not contain "//"');
    const cut = prefix.lastIndexOf('/');
    const baseKey = cut < 0 ? '' : prefix.slice(0, cut);
    // The folder part must be a well-formed key; the last part is only matched as text.
    const baseSegs = baseKey === '' ? [] : keySegments(baseKey, 'prefix', prefix);
    const files: StoredObject[] = [];
    const dirs: string[] = [];
    if (baseKey !== '' && `${baseKey}/`.startsWith(prefix)) dirs.push(baseKey);
    await this.walk(path.join(this.root, ...baseSegs), baseKey, prefix, files, dirs);
    return { files, dirs };
  }

  private async walk(dirAbs: string, dirKey: string, prefix: string, files: StoredObject[], dirs: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dirAbs, { withFileTypes: true });
    } catch (e) {
      if (isAbsent(e)) return;
      throw e;
    }
    for (const ent of entries) {
      const key = dirKey === '' ? ent.name : `${dirKey}/${ent.name}`;
      // Symlinks are neither followed nor listed: nothing outside the root is reachable.
      if (ent.isDirectory()) {
        const asPrefix = `${key}/`;
        const inside = asPrefix.startsWith(prefix);
        if (inside || prefix.startsWith(asPrefix)) {
          if (inside) dirs.push(key);
          await this.walk(path.join(dirAbs, ent.name), key, prefix, files, dirs);
        }
      } else if (ent.isFile() && !isReservedName(ent.name) && key.startsWith(prefix)) {
        try {
          files.push({ key, size: (await lstat(path.join(dirAbs, ent.name))).size });
        } catch (e) {
          if (!isAbsent(e)) throw e; // deleted while we walked
        }
      }
    }
  }
}
