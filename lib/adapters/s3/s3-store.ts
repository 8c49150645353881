import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, PutObjectCommandInput, S3ClientConfig, ServerSideEncryption } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectStore, Precondition, StoredObject } from '../../core/ports/object-store';
import { PreconditionFailed } from '../../core/ports/object-store';
import { isConditionalConflict, isNotFound, isPreconditionFailed, s3ErrorInfo } from './s3-errors';
import { assertKeyLength, assertValidKey, assertValidPrefix, copySource, normalizeStorePrefix } from './s3-keys';
import { InvalidStoreUrlError } from '../../core/errors';
import { retry, sleep } from '../../core/retry';
import { AWS_RETRY } from '../aws-retry';
export { InvalidStoreUrlError };

/** S3's largest single CopyObject; bigger objects are copied part by part. */
const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
const MAX_PARTS = 10_000;
/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

export interface S3StoreOptions {
  readonly bucket: string;
  /** Key prefix inside the bucket that acts as the store root, e.g. `drops/`. */
  readonly prefix?: string;
  /** An S3 client to use; built from `clientConfig` and the environment when absent. */
  readonly client?: S3Client;
  readonly clientConfig?: S3ClientConfig;
  /** SSE-KMS with this key; SSE-S3 (AES256) when absent. */
  readonly kmsKeyId?: string;
  /** Multipart upload part size in bytes (at least 5 MiB). Memory held is about queueSize × partSize. */
  readonly partSize?: number;
  readonly queueSize?: number;
  /** MaxKeys per ListObjectsV2 page; S3's default of 1000 unless set (tests set it small). */
  readonly listPageSize?: number;
  /** Above this size `move` copies part by part (UploadPartCopy); S3's limit is 5 GiB. */
  readonly multipartCopyThreshold?: number;
  /** Part size of a multipart copy; 512 MiB unless set. */
  readonly copyPartSize?: number;
  /** How often a write answered 409 ConditionalRequestConflict is tried again. */
  readonly conflictRetries?: number;
  /** Waits between those tries; replaceable so tests need not sleep. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * How long to wait for a connection, and how long a connection may stay silent (no byte either
   * way), before the request fails (and the SDK retries it): a server that hangs never holds a run
   * forever.
   * @default { connectMs: 10_000, idleMs: 60_000 }
   */
  readonly timeouts?: S3Timeouts;
}

export interface S3Timeouts {
  readonly connectMs: number;
  readonly idleMs: number;
}

export const DEFAULT_S3_TIMEOUTS: S3Timeouts = { connectMs: 10_000, idleMs: 60_000 };

/** Client settings every dropkit S3 client starts from: the endpoint from the environment, bounded waits. */
export function s3ClientDefaults(timeouts: S3Timeouts = DEFAULT_S3_TIMEOUTS): S3ClientConfig {
  return { ...AWS_RETRY, ...s3ClientConfigFromEnv(), requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs } };
}

/**
 * Client settings for any S3-compatible endpoint: when `AWS_ENDPOINT_URL_S3` (or
 * `AWS_ENDPOINT_URL`) is set, requests go there path-style, since such endpoints rarely resolve
 * `bucket.host` names.
 */
export function s3ClientConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  if (!endpoint) return {};
  return { endpoint, forcePathStyle: true, region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1' };
}

/** Parses `s3://bucket/prefix` into bucket and prefix. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw new InvalidStoreUrlError(url, 'it does not start with s3://');
  const bucket = m[1]!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new InvalidStoreUrlError(url, `${JSON.stringify(bucket)} is not a valid bucket name (3-63 lowercase letters, digits, "." or "-")`);
  }
  try {
    return { bucket, prefix: normalizeStorePrefix(m[2]) };
  } catch (e) {
    throw new InvalidStoreUrlError(url, e instanceof Error ? e.message : String(e));
  }
}

/** Reads an SDK body (a Node Readable at run time) whole. */
async function readBody(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks);
}

/**
 * An ObjectStore on S3 (or any S3-compatible endpoint). Large bodies stream through a multipart
 * upload with per-part CRC32 checksums that S3 verifies; a failed upload is aborted so no parts
 * linger. Conditional writes map onto S3's `If-None-Match` / `If-Match`, and a 409 conflict from
 * a concurrent conditional write is retried. ETags are S3's, quotes included.
 */
export class S3Store implements ObjectStore {
  readonly kind = 's3';
  readonly bucket: string;
  /** Normalised store root inside the bucket: empty, or ending in "/". */
  readonly prefix: string;
  readonly client: S3Client;
  private readonly kmsKeyId: string | undefined;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly listPageSize: number | undefined;
  private readonly multipartCopyThreshold: number;
  private readonly copyPartSize: number;
  private readonly conflictRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = normalizeStorePrefix(options.prefix);
    this.client = options.client ?? new S3Client({ ...s3ClientDefaults(options.timeouts), ...options.clientConfig });
    this.kmsKeyId = options.kmsKeyId;
    this.partSize = options.partSize ?? 8 * 1024 * 1024;
    this.queueSize = options.queueSize ?? 4;
    this.listPageSize = options.listPageSize;
    this.multipartCopyThreshold = options.multipartCopyThreshold ?? MAX_SINGLE_COPY_BYTES;
    this.copyPartSize = options.copyPartSize ?? 512 * 1024 * 1024;
    this.conflictRetries = options.conflictRetries ?? 4;
    this.sleep = options.sleep ?? sleep;
  }

  /** `S3Store.fromUrl('s3://bucket/prefix')`, with the same options otherwise. */
  static fromUrl(url: string, options: Omit<S3StoreOptions, 'bucket' | 'prefix'> = {}): S3Store {
    const { bucket, prefix } = parseS3Url(url);
    return new S3Store({ ...options, bucket, prefix });
  }

  /** The full key in the bucket for a store key. */
  objectKey(key: string): string {
    assertValidKey(key);
    const full = this.prefix + key;
    assertKeyLength(full, key);
    return full;
  }

  async put(
    key: string,
    body: Buffer | string | Readable,
    options?: { contentType?: string; precondition?: Precondition },
  ): Promise<{ etag: string; versionId?: string }> {
    const params: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ContentType: options?.contentType,
      ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
      ...this.encryption(),
      ...conditionHeaders(options?.precondition),
    };
    // A stream can be sent once only; a Buffer or string can be sent again after a 409.
    const replayable = !(body instanceof Readable);
    return retry(
      async () => {
        try {
          const out = await this.send(params, body);
          if (!out.ETag) throw new Error(`S3 returned no ETag for ${JSON.stringify(key)} in bucket ${this.bucket}`);
          return out.VersionId ? { etag: out.ETag, versionId: out.VersionId } : { etag: out.ETag };
        } catch (e) {
          if (options?.precondition && isPreconditionFailed(e)) throw new PreconditionFailed(key);
          // If-Match on a key that does not exist: S3 answers 404 NoSuchKey.
          if (options?.precondition && 'ifMatch' in options.precondition && s3ErrorInfo(e).code === 'NoSuchKey') throw new PreconditionFailed(key);
          throw e;
        }
      },
      {
        maxAttempts: this.conflictRetries + 1,
        backoff: CONFLICT_BACKOFF,
        // S3's 409 on a concurrent conditional write is not retried by the SDK; only a body that can be sent again is.
        retryable: (e) => Boolean(options?.precondition) && replayable && isConditionalConflict(e),
        sleep: this.sleep,
      },
    );
  }

  async get(key: string): Promise<{ body: Buffer; etag: string } | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { body: await readBody(out.Body), etag: out.ETag ?? '' };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async read(key: string): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      const body = out.Body;
      if (body instanceof Readable) return body;
      return Readable.from(body === undefined ? [] : (body as unknown as AsyncIterable<Uint8Array>));
    } catch (e) {
      if (isNotFound(e)) throw new Error(`no object at key ${JSON.stringify(key)} in s3://${this.bucket}/${this.prefix}`, { cause: e });
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertValidPrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token, MaxKeys: this.listPageSize }),
      );
      for (const o of page.Contents ?? []) {
        // Console "folder" markers (keys ending in "/") are not objects in this store.
        if (!o.Key || o.Key.endsWith('/')) continue;
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Copies then deletes; reports the new object's version where the bucket keeps versions. */
  async move(fromKey: string, toKey: string): Promise<{ versionId?: string }> {
    const from = this.objectKey(fromKey);
    const to = this.objectKey(toKey);
    const source = await this.head(fromKey);
    if (!source) throw new Error(`cannot move ${JSON.stringify(fromKey)}: no object at that key`);
    let versionId: string | undefined;
    try {
      if (source.size > this.multipartCopyThreshold) versionId = await this.copyInParts(from, to, source);
      else {
        const copied = await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: to,
            CopySource: copySource(this.bucket, from),
            // The target must not exist: S3 refuses the copy with 412 if it does.
            IfNoneMatch: '*',
            ...this.encryption(),
          }),
        );
        versionId = copied.VersionId;
      }
    } catch (e) {
      if (isPreconditionFailed(e)) {
        throw new Error(`cannot move ${JSON.stringify(fromKey)} to ${JSON.stringify(toKey)}: the target exists`, { cause: e });
      }
      throw e;
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: from }));
    return versionId ? { versionId } : {};
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    let batch: string[] = [];
    const flush = async () => {
      const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      // DeleteObjects answers 200 even when some keys failed; the failures are in Errors.
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new Error(
          `could not delete ${failed.length} object(s) under ${JSON.stringify(prefix)}, e.g. ${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim(),
        );
      }
      batch = [];
    };
    for await (const o of this.list(prefix)) {
      batch.push(this.prefix + o.key);
      if (batch.length === DELETE_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
  }

  private async head(key: string): Promise<{ size: number; contentType: string | undefined } | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { size: out.ContentLength ?? 0, contentType: out.ContentType };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private encryption(): { ServerSideEncryption: ServerSideEncryption; SSEKMSKeyId?: string } {
    return this.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.kmsKeyId } : { ServerSideEncryption: 'AES256' };
  }

  /** One PutObject for a small in-memory body; a multipart upload for a stream or a large body. */
  private async send(params: PutObjectCommandInput, body: Buffer | string | Readable): Promise<{ ETag?: string; VersionId?: string }> {
    if (!(body instanceof Readable)) {
      const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      if (buf.length <= this.partSize) return this.client.send(new PutObjectCommand({ ...params, Body: buf }));
    }
    // lib-storage forwards IfNoneMatch/IfMatch to CompleteMultipartUpload (S3 honours them there)
    // and, for CRC32, each part's checksum too, so S3 checks every part and the whole.
    const upload = new Upload({
      client: this.client,
      params: { ...params, Body: body },
      partSize: this.partSize,
      queueSize: this.queueSize,
      // Abort on failure: parts of a failed upload would otherwise be stored (and billed) forever.
      leavePartsOnError: false,
    });
    return upload.done();
  }

  /** Copies an object too large for CopyObject with UploadPartCopy, aborting on failure. */
  private async copyInParts(from: string, to: string, source: { size: number; contentType: string | undefined }): Promise<string | undefined> {
    const partSize = Math.max(this.copyPartSize, Math.ceil(source.size / MAX_PARTS));
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to, ContentType: source.contentType, ...this.encryption() }),
    );
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, n = 1; start < source.size; start += partSize, n++) {
        const end = Math.min(start + partSize, source.size) - 1;
        const out = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: to,
            UploadId,
            PartNumber: n,
            CopySource: copySource(this.bucket, from),
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ PartNumber: n, ETag: out.CopyPartResult?.ETag });
      }
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: '*' }),
      );
      return done.VersionId;
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId })).catch(() => undefined);
      throw e;
    }
  }
}

function conditionHeaders(precondition: Precondition | undefined): { IfNoneMatch?: string; IfMatch?: string } {
  if (!precondition) return {};
  return 'ifNoneMatch' in precondition ? { IfNoneMatch: '*' } : { IfMatch: precondition.ifMatch };
}

/** 100 ms, 200 ms, 400 ms… with jitter, so retrying writers do not collide again. */
/** Waits between tries of a conditional write that met a concurrent one: 100 ms, 200 ms, … each between half and all. */
const CONFLICT_BACKOFF = { baseMs: 100, jitter: 0.5 } as const;
