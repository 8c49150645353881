import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

/**
 * Thrown at the end of a tail when the file is not the one read, or not as long as what was read
 * (its writer replaced, truncated or rewrote it): what was read is not the file. The caller reads
 * the finished file again instead.
 */
export class TailMismatchError extends Error {
  constructor(path: string, detail: string) {
    super(`${path} changed under its reader (${detail}); read it again once written`);
    this.name = 'TailMismatchError';
  }
}

export interface TailOptions {
  /** Bytes per read: 1 MiB, as the store's own hashing reads. */
  readonly chunkBytes?: number;
  /** How long to wait for more bytes while the writer is still writing. */
  readonly pollMs?: number;
  /** Sees every chunk before it is passed on (it may throw to stop the tail), and the end of a complete tail. */
  readonly inspect?: TailInspector;
}

/**
 * A look at the bytes of a tail as they pass. `end` is called only when the tail ends having read
 * exactly the finished file; after a TailMismatchError (the caller then reads the file again,
 * without the inspector) it is not, so the inspector knows it did not see every byte.
 */
export interface TailInspector {
  chunk(bytes: Buffer): void;
  end(): void;
}

/**
 * The bytes of a file that another writer (DuckDB's COPY) is still appending to, as they land:
 * hashing or gzipping them rides along with the write instead of re-reading the file after it.
 * Waits for the file to appear; ends once `written` has resolved and every byte is read; fails
 * with `written`'s error if the writer fails. The reads hit the page cache the writer just filled.
 */
export function tailFile(path: string, written: Promise<unknown>, options: TailOptions = {}): Readable {
  return Readable.from(tail(path, written, options.chunkBytes ?? 1 << 20, options.pollMs ?? 15, false, options.inspect), { objectMode: false });
}

/**
 * SHA-256 and size of a file as its writer writes it (see tailFile). One read buffer serves the
 * whole file: a fresh 1 MiB buffer per read is garbage the heap does not see, and the process
 * grew by about 70 MB before V8 collected it.
 */
export async function hashWhileWritten(path: string, written: Promise<unknown>, options: TailOptions = {}): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  // Each chunk is hashed before the next read reuses the buffer.
  for await (const chunk of tail(path, written, options.chunkBytes ?? 1 << 20, options.pollMs ?? 15, true, options.inspect)) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function* tail(
  path: string,
  written: Promise<unknown>,
  chunkBytes: number,
  pollMs: number,
  reuse: boolean,
  inspect: TailInspector | undefined,
): AsyncGenerator<Buffer> {
  const writer: { done: boolean; error?: unknown } = { done: false };
  const settled = written.then(
    () => void (writer.done = true),
    (error: unknown) => void Object.assign(writer, { done: true, error: error ?? new Error('the writer failed') }),
  );
  const wait = () => Promise.race([settled, new Promise<void>((resolve) => setTimeout(resolve, pollMs))]);
  let fh: FileHandle | undefined;
  try {
    while (!fh) {
      const finished = { ...writer };
      try {
        fh = await open(path, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        if (finished.done) throw finished.error ?? new TailMismatchError(path, 'the writer finished without creating it');
        await wait();
      }
    }
    let position = 0;
    const shared = reuse ? Buffer.allocUnsafe(chunkBytes) : undefined;
    for (;;) {
      // Read the writer's state before reading: a short read after it finished is the real end.
      const finished = { ...writer };
      if (finished.done && finished.error) throw finished.error;
      const buffer = shared ?? Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await fh.read(buffer, 0, chunkBytes, position);
      if (bytesRead > 0) {
        position += bytesRead;
        const bytes = buffer.subarray(0, bytesRead);
        inspect?.chunk(bytes);
        yield bytes;
        continue;
      }
      if (!finished.done) {
        await wait();
        continue;
      }
      // Everything read: it is the file only if the path still names this very file at this length.
      const [mine, named] = await Promise.all([fh.stat(), stat(path)]);
      if (mine.ino !== named.ino || mine.dev !== named.dev) throw new TailMismatchError(path, 'replaced by another file');
      if (named.size !== position) throw new TailMismatchError(path, `${named.size} bytes, ${position} read`);
      inspect?.end();
      return;
    }
  } finally {
    await fh?.close();
  }
}
