import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import type { ObjectStore } from './ports/object-store';

/** Hex SHA-256 of a text or bytes: the manifest's checksums, the SQL's fingerprint. */
export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** SHA-256 and size of a stored object, read as a stream. */
export async function hashObject(store: ObjectStore, key: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of await store.read(key)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Stores a stream while counting and hashing exactly the bytes stored. */
export async function putHashed(store: ObjectStore, key: string, body: Readable, contentType: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  // An error of the body fails the store's read of `counter`. Listened to here too: a put that fails
  // before reading (refused, store gone) leaves no reader, and the body's late error (its file
  // removed by the caller's cleanup before it opened) would be an uncaught exception.
  body.on('error', (e) => counter.destroy(e));
  counter.on('error', () => undefined);
  try {
    await store.put(key, body.pipe(counter), { contentType });
  } catch (error) {
    body.destroy(); // Unread: let go of its file.
    throw error;
  }
  return { bytes, sha256: hash.digest('hex') };
}
