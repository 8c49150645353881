import { ObjectStore, PreconditionFailed } from '../ports/object-store';
import { PublishConflictError } from '../errors';
import { runIdentity, LatestPointer, Manifest } from '../manifest';
import { parseStoreJson } from '../store-json';
import { latestPointerSchema } from '../manifest-schema';
import { latestBase } from '../layout';

/** The `latest.json` pointer of a published drop (relative to the pointer's folder). */
export function pointerFor(manifest: Manifest, manifestKey: string, latestKey: string, manifestSha256: string): LatestPointer {
  const base = latestBase(latestKey);
  return {
    manifestVersion: 1,
    ...runIdentity(manifest),
    manifest: manifestKey.startsWith(base) ? manifestKey.slice(base.length) : manifestKey,
    manifestSha256,
    publishedAt: manifest.timings.publishedAt,
  };
}

/**
 * Moves `latest.json` to the new drop unless it already points at a newer one (a backfill of an
 * old slot must not turn the pointer back). Conditional on the version read, retried on a race.
 */
export async function moveLatestPointer(store: ObjectStore, key: string, pointer: LatestPointer): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await store.get(key);
    if (current) {
      const existing = parseStoreJson(key, current.body, latestPointerSchema);
      const newer = existing.scheduledFor > pointer.scheduledFor || (existing.scheduledFor === pointer.scheduledFor && existing.revision >= pointer.revision);
      if (newer) return false;
    }
    try {
      const precondition = current ? { ifMatch: current.etag } : ({ ifNoneMatch: '*' } as const);
      await store.put(key, JSON.stringify(pointer, null, 2) + '\n', { contentType: 'application/json', precondition });
      return true;
    } catch (error) {
      if (!(error instanceof PreconditionFailed)) throw error;
    }
  }
  throw new PublishConflictError(`${key} kept changing under this run; the drop is delivered but the pointer was not moved: run again to repair it`);
}
