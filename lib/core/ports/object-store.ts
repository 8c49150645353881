import type { Readable } from 'node:stream';

/**
 * Where drops live: a local folder laid out exactly like the bucket, or S3. Keys are `/`-separated
 * and relative to the store root (the bucket, or the folder).
 */
export interface StoredObject {
  readonly key: string;
  readonly size: number;
}

/** Identifies one version of an object for a conditional write. */
export type Precondition = { readonly ifMatch: string } | { readonly ifNoneMatch: '*' };

export interface ObjectStore {
  readonly kind: string;
  /**
   * Writes an object whole; readers never see a partial object. `versionId` is set where the store
   * keeps versions (a versioned S3 bucket).
   */
  put(
    key: string,
    body: Buffer | string | Readable,
    options?: { contentType?: string; precondition?: Precondition },
  ): Promise<{ etag: string; versionId?: string }>;
  /** Reads a small object whole (manifests, pointers). Undefined when absent. */
  get(key: string): Promise<{ body: Buffer; etag: string } | undefined>;
  read(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  /** Every object under a prefix, sorted by key. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Moves an object (staging → drop). Overwrites nothing: fails if the target exists. */
  move(fromKey: string, toKey: string): Promise<{ versionId?: string } | void>;
  delete(key: string): Promise<void>;
  deletePrefix(prefix: string): Promise<void>;
}

/** Thrown by `put` when its precondition does not hold (someone else moved the object). */
export class PreconditionFailed extends Error {
  constructor(readonly key: string) {
    super(`precondition failed for ${key}`);
    this.name = 'PreconditionFailed';
  }
}
