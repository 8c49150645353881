import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { putHashed } from '../../core/hash';
import { LocalStore } from '../local/local-store';
import type { ObjectStore } from '../../core/ports/object-store';
import { hashWhileWritten, tailFile, TailMismatchError, type TailOptions } from './tail-file';
import { stagingRoot } from '../../core/layout';

/**
 * How DuckDB, which reads and writes files, meets a store, which holds keys. Over a local folder
 * store the engine works on the store's own files (staged Parquet is written in place, exports are
 * renamed into it: no copies); over any other store it works on copies in its scratch folder and
 * uploads or downloads them. Core never sees a path either way.
 */
export interface LocalFiles {
  readonly store: ObjectStore;
  /** Folders the engine must be allowed to read and write besides its scratch folder. */
  allowedDirectories(): string[];
  /** A path DuckDB can write the object at `key` to; `commit` makes it the object. */
  writablePath(key: string): Promise<string>;
  /** Whether something was written at `key` through `writablePath` (or is in the store). */
  exists(key: string): Promise<boolean>;
  commit(key: string): Promise<void>;
  /** A path DuckDB can read the object at `key` from. */
  readablePath(key: string): Promise<string>;
  /** Stores a scratch file under `key` (moved, not copied, where the store allows); reports its size and SHA-256. */
  adopt(key: string, file: string, contentType: string): Promise<{ bytes: number; sha256: string }>;
  /**
   * `adopt` of a file the engine is still writing (done when `written` resolves): its bytes are
   * hashed (or uploaded) as they land, so the file is not read again after the write. `tail` goes
   * to the tail's reader (an inspector of the bytes).
   */
  adoptWhileWritten(key: string, file: string, written: Promise<unknown>, contentType: string, tail?: TailOptions): Promise<{ bytes: number; sha256: string }>;
  remove(key: string): Promise<void>;
}

/** Reads the file once its writer is done when tailing it did not see exactly its bytes. */
async function orAfterWrite<T>(tailed: Promise<T>, written: Promise<unknown>, again: () => Promise<T>): Promise<T> {
  try {
    return await tailed;
  } catch (error) {
    if (!(error instanceof TailMismatchError)) throw error;
    await written;
    return again();
  }
}

export function localFiles(store: ObjectStore, scratch: string, prefix = '', stagingPrefix?: string): LocalFiles {
  return store instanceof LocalStore ? new InPlaceFiles(store, prefix, stagingPrefix) : new CopiedFiles(store, join(scratch, 'objects'));
}

class InPlaceFiles implements LocalFiles {
  constructor(
    readonly store: LocalStore,
    private readonly prefix: string,
    private readonly stagingPrefix?: string,
  ) {}
  allowedDirectories(): string[] {
    // Only staging, and only this attempt's when known: feed SQL must read neither drops nor
    // another run's staged rows. The trailing separator keeps a sibling with a longer name out.
    const folder = this.stagingPrefix?.replace(/\/$/, '') ?? stagingRoot(this.prefix ?? '');
    return [this.store.localPath(folder) + sep];
  }
  async writablePath(key: string): Promise<string> {
    const path = this.store.localPath(key);
    await mkdir(dirname(path), { recursive: true });
    await rm(path, { force: true });
    return path;
  }
  exists(key: string): Promise<boolean> {
    return this.store.exists(key);
  }
  async commit(): Promise<void> {}
  async readablePath(key: string): Promise<string> {
    return this.store.localPath(key);
  }
  async adopt(key: string, file: string): Promise<{ bytes: number; sha256: string }> {
    const { bytes, sha256 } = await this.store.putFile(key, file);
    return { bytes, sha256 };
  }
  adoptWhileWritten(key: string, file: string, written: Promise<unknown>, contentType: string, tail?: TailOptions): Promise<{ bytes: number; sha256: string }> {
    const hashed = (async () => {
      const { sha256, bytes } = await this.store.putFile(key, file, { contentType, hashed: await hashWhileWritten(file, written, tail) });
      return { bytes, sha256 };
    })();
    return orAfterWrite(hashed, written, () => this.adopt(key, file));
  }
  remove(key: string): Promise<void> {
    return this.store.delete(key);
  }
}

class CopiedFiles implements LocalFiles {
  constructor(
    readonly store: ObjectStore,
    private readonly dir: string,
  ) {}
  allowedDirectories(): string[] {
    return [];
  }
  private pathOf(key: string): string {
    return join(this.dir, ...key.split('/'));
  }
  async writablePath(key: string): Promise<string> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await rm(path, { force: true });
    return path;
  }
  async exists(key: string): Promise<boolean> {
    try {
      await access(this.pathOf(key));
      return true;
    } catch {
      return this.store.exists(key);
    }
  }
  async commit(key: string): Promise<void> {
    await this.store.put(key, createReadStream(this.pathOf(key), { highWaterMark: 1 << 20 }));
  }
  async readablePath(key: string): Promise<string> {
    const path = this.pathOf(key);
    try {
      await access(path);
    } catch {
      await mkdir(dirname(path), { recursive: true });
      await pipeline(await this.store.read(key), createWriteStream(path));
    }
    return path;
  }
  async adopt(key: string, file: string, contentType: string): Promise<{ bytes: number; sha256: string }> {
    try {
      return await putHashed(this.store, key, createReadStream(file, { highWaterMark: 1 << 20 }), contentType);
    } finally {
      await rm(file, { force: true });
    }
  }
  async adoptWhileWritten(
    key: string,
    file: string,
    written: Promise<unknown>,
    contentType: string,
    tail?: TailOptions,
  ): Promise<{ bytes: number; sha256: string }> {
    // Uploaded as it is written; a failed or mismatched upload leaves no object (the put fails).
    const uploaded = putHashed(this.store, key, tailFile(file, written, tail), contentType);
    try {
      return await orAfterWrite(uploaded, written, () => this.adopt(key, file, contentType));
    } finally {
      await rm(file, { force: true });
    }
  }
  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
    await this.store.delete(key);
  }
}
