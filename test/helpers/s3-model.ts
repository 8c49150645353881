import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NoSuchUpload,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type {
  AbortMultipartUploadCommandInput,
  CompleteMultipartUploadCommandInput,
  CopyObjectCommandInput,
  CreateMultipartUploadCommandInput,
  DeleteObjectCommandInput,
  DeleteObjectsCommandInput,
  GetObjectCommandInput,
  HeadObjectCommandInput,
  ListObjectsV2CommandInput,
  PutObjectCommandInput,
  UploadPartCommandInput,
  UploadPartCopyCommandInput,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsStub } from 'aws-sdk-client-mock';

/**
 * An in-memory S3 that follows the rules dropkit relies on, for the cases no emulator installable
 * here honours:
 * - conditional writes: `If-None-Match: *` on an existing key and `If-Match` with another ETag
 *   answer 412 PreconditionFailed; `If-Match` on a missing key answers 404 NoSuchKey; a 409
 *   ConditionalRequestConflict can be injected for the next conditional writes to a key;
 * - ETags: quoted MD5 of the body, or MD5 of the part MD5s plus `-N` for a multipart object;
 * - checksums: a CRC32 / SHA-256 / SHA-1 value sent with a body must match (400 BadDigest);
 *   a multipart upload created with a composite algorithm must list each part's checksum on
 *   completion; parts other than the last must be at least 5 MiB;
 * - versions: in a versioned bucket every write gets a version id and a delete leaves a marker;
 * - ListObjectsV2 sorted by UTF-8 bytes, paginated by MaxKeys and continuation tokens;
 * - DeleteObjects with at most 1000 keys; CopyObject and UploadPartCopy.
 */

const MIN_PART_BYTES = 5 * 1024 * 1024;

interface StoredVersion {
  readonly versionId: string;
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string | undefined;
  readonly checksums: Readonly<Record<string, string>>;
  readonly sse: string | undefined;
  readonly kmsKeyId: string | undefined;
  readonly lastModified: Date;
  readonly deleteMarker?: boolean;
}

interface OpenUpload {
  readonly bucket: string;
  readonly key: string;
  readonly algorithm: string | undefined;
  readonly contentType: string | undefined;
  readonly sse: string | undefined;
  readonly kmsKeyId: string | undefined;
  readonly parts: Map<number, { body: Buffer; etag: string; checksum: string | undefined }>;
}

interface BucketState {
  readonly versioned: boolean;
  readonly objects: Map<string, StoredVersion[]>;
}

function s3Error(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });
}

function md5(buf: Buffer): Buffer {
  return createHash('md5').update(buf).digest();
}

/** The value S3 puts in x-amz-checksum-<algorithm>: base64 of the big-endian digest. */
export function checksumOf(algorithm: string, body: Buffer): string {
  switch (algorithm.toUpperCase()) {
    case 'CRC32': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32(body) >>> 0);
      return b.toString('base64');
    }
    case 'SHA256':
      return createHash('sha256').update(body).digest('base64');
    case 'SHA1':
      return createHash('sha1').update(body).digest('base64');
    default:
      throw new Error(`the S3 model does not implement the ${algorithm} checksum`);
  }
}

/** Composite checksum of a multipart object: checksum of the concatenated part digests, `-N`. */
function compositeChecksum(algorithm: string, partChecksums: string[]): string {
  const joined = Buffer.concat(partChecksums.map((c) => Buffer.from(c, 'base64')));
  return `${checksumOf(algorithm, joined)}-${partChecksums.length}`;
}

const CHECKSUM_FIELDS = { ChecksumCRC32: 'CRC32', ChecksumSHA256: 'SHA256', ChecksumSHA1: 'SHA1', ChecksumCRC32C: 'CRC32C', ChecksumCRC64NVME: 'CRC64NVME' } as const;

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks);
}

function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export class S3Model {
  private readonly buckets = new Map<string, BucketState>();
  private readonly uploads = new Map<string, OpenUpload>();
  private readonly conflicts = new Map<string, number>();
  private readonly partFaults: { partNumber: number; error: Error }[] = [];
  private clock = 0;

  createBucket(name: string, options: { versioned?: boolean } = {}): this {
    this.buckets.set(name, { versioned: options.versioned ?? false, objects: new Map() });
    return this;
  }

  /** The next `times` conditional writes to `bucket/key` answer 409 ConditionalRequestConflict. */
  injectConflicts(bucket: string, key: string, times: number): void {
    this.conflicts.set(`${bucket}/${key}`, times);
  }

  /** The next UploadPart of this part number fails with `error` (a 500 InternalError by default). */
  failUploadPart(partNumber: number, error: Error = s3Error('InternalError', 500, 'We encountered an internal error. Please try again.')): void {
    this.partFaults.push({ partNumber, error });
  }

  /** Multipart uploads neither completed nor aborted. */
  openUploads(): { bucket: string; key: string; parts: number }[] {
    return [...this.uploads.values()].map((u) => ({ bucket: u.bucket, key: u.key, parts: u.parts.size }));
  }

  /** Every version of a key, oldest first, delete markers included. */
  versions(bucket: string, key: string): { versionId: string; deleteMarker: boolean; body: Buffer }[] {
    return (this.bucket(bucket).objects.get(key) ?? []).map((v) => ({ versionId: v.versionId, deleteMarker: !!v.deleteMarker, body: v.body }));
  }

  /** The current object at a key, as S3 stores it (checksums, encryption), or undefined. */
  current(bucket: string, key: string): StoredVersion | undefined {
    const list = this.bucket(bucket).objects.get(key);
    const last = list?.[list.length - 1];
    return last && !last.deleteMarker ? last : undefined;
  }

  async putObject(input: PutObjectCommandInput) {
    const bucket = this.bucket(input.Bucket);
    const key = input.Key!;
    const body = await bodyBytes(input.Body);
    const checksums = this.verifyChecksums(input as unknown as Record<string, unknown>, body, input.ChecksumAlgorithm);
    this.checkWriteConditions(input.Bucket!, key, input.IfNoneMatch, input.IfMatch);
    const v = this.store(bucket, key, { body, etag: `"${md5(body).toString('hex')}"`, contentType: input.ContentType, checksums, sse: input.ServerSideEncryption, kmsKeyId: input.SSEKMSKeyId });
    return { ETag: v.etag, VersionId: bucket.versioned ? v.versionId : undefined, ...checksumOutput(checksums) };
  }

  async getObject(input: GetObjectCommandInput) {
    const v = this.find(input.Bucket, input.Key!, input.VersionId);
    if (!v) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
    return {
      Body: Readable.from([v.body]),
      ETag: v.etag, ContentLength: v.body.length, ContentType: v.contentType, LastModified: v.lastModified,
      VersionId: this.bucket(input.Bucket).versioned ? v.versionId : undefined,
    };
  }

  async headObject(input: HeadObjectCommandInput) {
    const v = this.find(input.Bucket, input.Key!, input.VersionId);
    // HEAD has no body, so S3 cannot say NoSuchKey: the SDK sees a bare 404 NotFound.
    if (!v) throw s3Error('NotFound', 404, 'Not Found');
    return { ETag: v.etag, ContentLength: v.body.length, ContentType: v.contentType, LastModified: v.lastModified, VersionId: this.bucket(input.Bucket).versioned ? v.versionId : undefined };
  }

  async listObjectsV2(input: ListObjectsV2CommandInput) {
    const bucket = this.bucket(input.Bucket);
    const prefix = input.Prefix ?? '';
    const max = input.MaxKeys ?? 1000;
    const after = input.ContinuationToken ? Buffer.from(input.ContinuationToken, 'base64').toString('utf8') : input.StartAfter;
    const keys = [...bucket.objects.keys()]
      .filter((k) => k.startsWith(prefix) && this.current(input.Bucket!, k) && (after === undefined || compareKeys(k, after) > 0))
      .sort(compareKeys);
    const page = keys.slice(0, max);
    const truncated = keys.length > page.length;
    return {
      Contents: page.map((k) => {
        const v = this.current(input.Bucket!, k)!;
        return { Key: k, Size: v.body.length, ETag: v.etag, LastModified: v.lastModified };
      }),
      KeyCount: page.length, MaxKeys: max, Prefix: prefix, IsTruncated: truncated,
      NextContinuationToken: truncated ? Buffer.from(page[page.length - 1]!, 'utf8').toString('base64') : undefined,
    };
  }

  async copyObject(input: CopyObjectCommandInput) {
    const bucket = this.bucket(input.Bucket);
    const src = this.copySource(input.CopySource!);
    if (src.body.length > 5 * 1024 ** 3) throw s3Error('InvalidRequest', 400, 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120');
    this.checkWriteConditions(input.Bucket!, input.Key!, input.IfNoneMatch, input.IfMatch);
    const v = this.store(bucket, input.Key!, { body: src.body, etag: `"${md5(src.body).toString('hex')}"`, contentType: src.contentType, checksums: src.checksums, sse: input.ServerSideEncryption, kmsKeyId: input.SSEKMSKeyId });
    return { CopyObjectResult: { ETag: v.etag, LastModified: v.lastModified }, VersionId: bucket.versioned ? v.versionId : undefined };
  }

  async deleteObject(input: DeleteObjectCommandInput) {
    const bucket = this.bucket(input.Bucket);
    const key = input.Key!;
    if (bucket.versioned) {
      const v = this.store(bucket, key, { body: Buffer.alloc(0), etag: '', contentType: undefined, checksums: {}, sse: undefined, kmsKeyId: undefined, deleteMarker: true });
      return { DeleteMarker: true, VersionId: v.versionId };
    }
    bucket.objects.delete(key);
    return {};
  }

  async deleteObjects(input: DeleteObjectsCommandInput) {
    const objects = input.Delete?.Objects ?? [];
    if (objects.length === 0 || objects.length > 1000) throw s3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema');
    const deleted = [];
    for (const o of objects) {
      await this.deleteObject({ Bucket: input.Bucket, Key: o.Key });
      deleted.push({ Key: o.Key });
    }
    return { Deleted: input.Delete?.Quiet ? undefined : deleted, Errors: [] };
  }

  async createMultipartUpload(input: CreateMultipartUploadCommandInput) {
    this.bucket(input.Bucket);
    const uploadId = randomBytes(12).toString('hex');
    this.uploads.set(uploadId, {
      bucket: input.Bucket!, key: input.Key!, algorithm: input.ChecksumAlgorithm, contentType: input.ContentType,
      sse: input.ServerSideEncryption, kmsKeyId: input.SSEKMSKeyId, parts: new Map(),
    });
    return { UploadId: uploadId, Bucket: input.Bucket, Key: input.Key, ChecksumAlgorithm: input.ChecksumAlgorithm };
  }

  async uploadPart(input: UploadPartCommandInput) {
    const upload = this.upload(input.UploadId, input.Bucket, input.Key);
    const fault = this.partFaults.findIndex((f) => f.partNumber === input.PartNumber);
    if (fault >= 0) throw this.partFaults.splice(fault, 1)[0]!.error;
    const body = await bodyBytes(input.Body);
    const checksums = this.verifyChecksums(input as unknown as Record<string, unknown>, body, upload.algorithm);
    const checksum = upload.algorithm ? checksums[upload.algorithm] : undefined;
    const etag = `"${md5(body).toString('hex')}"`;
    upload.parts.set(input.PartNumber!, { body, etag, checksum });
    return { ETag: etag, ...checksumOutput(checksums) };
  }

  async uploadPartCopy(input: UploadPartCopyCommandInput) {
    const upload = this.upload(input.UploadId, input.Bucket, input.Key);
    const src = this.copySource(input.CopySource!);
    let body = src.body;
    if (input.CopySourceRange) {
      const m = /^bytes=(\d+)-(\d+)$/.exec(input.CopySourceRange);
      if (!m || Number(m[2]) >= src.body.length) throw s3Error('InvalidArgument', 400, `The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy`);
      body = src.body.subarray(Number(m[1]), Number(m[2]) + 1);
    }
    const etag = `"${md5(body).toString('hex')}"`;
    upload.parts.set(input.PartNumber!, { body: Buffer.from(body), etag, checksum: upload.algorithm ? checksumOf(upload.algorithm, body) : undefined });
    return { CopyPartResult: { ETag: etag } };
  }

  async completeMultipartUpload(input: CompleteMultipartUploadCommandInput) {
    const upload = this.upload(input.UploadId, input.Bucket, input.Key);
    const listed = input.MultipartUpload?.Parts ?? [];
    if (listed.length === 0) throw s3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema');
    const field = upload.algorithm ? (`Checksum${upload.algorithm}` as keyof (typeof listed)[number]) : undefined;
    const bodies: Buffer[] = [];
    let previous = 0;
    for (const [i, p] of listed.entries()) {
      if (p.PartNumber! <= previous) throw s3Error('InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.');
      previous = p.PartNumber!;
      const stored = upload.parts.get(p.PartNumber!);
      if (!stored || stored.etag !== p.ETag) throw s3Error('InvalidPart', 400, `One or more of the specified parts could not be found (part ${p.PartNumber}).`);
      if (field && p[field] === undefined) {
        throw s3Error('InvalidRequest', 400, `The upload was created using a ${upload.algorithm!.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${p.PartNumber} in the request.`);
      }
      if (field && p[field] !== stored.checksum) throw s3Error('InvalidPart', 400, `The checksum of part ${p.PartNumber} does not match the uploaded part.`);
      if (i < listed.length - 1 && stored.body.length < MIN_PART_BYTES) throw s3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.');
      bodies.push(stored.body);
    }
    this.checkWriteConditions(upload.bucket, upload.key, input.IfNoneMatch, input.IfMatch);
    const partEtags = listed.map((p) => Buffer.from(p.ETag!.replace(/"/g, ''), 'hex'));
    const etag = `"${md5(Buffer.concat(partEtags)).toString('hex')}-${listed.length}"`;
    const checksums: Record<string, string> = upload.algorithm
      ? { [upload.algorithm]: compositeChecksum(upload.algorithm, listed.map((p) => upload.parts.get(p.PartNumber!)!.checksum!)) }
      : {};
    const bucket = this.bucket(upload.bucket);
    const v = this.store(bucket, upload.key, { body: Buffer.concat(bodies), etag, contentType: upload.contentType, checksums, sse: upload.sse, kmsKeyId: upload.kmsKeyId });
    this.uploads.delete(input.UploadId!);
    return { ETag: etag, Bucket: upload.bucket, Key: upload.key, VersionId: bucket.versioned ? v.versionId : undefined, ...checksumOutput(checksums) };
  }

  async abortMultipartUpload(input: AbortMultipartUploadCommandInput) {
    this.upload(input.UploadId, input.Bucket, input.Key);
    this.uploads.delete(input.UploadId!);
    return {};
  }

  private bucket(name: string | undefined): BucketState {
    const b = name === undefined ? undefined : this.buckets.get(name);
    if (!b) throw s3Error('NoSuchBucket', 404, `The specified bucket does not exist: ${name}`);
    return b;
  }

  private upload(id: string | undefined, bucket: string | undefined, key: string | undefined): OpenUpload {
    const u = id === undefined ? undefined : this.uploads.get(id);
    if (!u || u.bucket !== bucket || u.key !== key) {
      throw new NoSuchUpload({ $metadata: { httpStatusCode: 404 }, message: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.' });
    }
    return u;
  }

  private find(bucketName: string | undefined, key: string, versionId?: string): StoredVersion | undefined {
    const list = this.bucket(bucketName).objects.get(key) ?? [];
    const v = versionId ? list.find((x) => x.versionId === versionId) : list[list.length - 1];
    return v && !v.deleteMarker ? v : undefined;
  }

  private copySource(source: string): StoredVersion {
    const [path, query] = source.replace(/^\//, '').split('?');
    const slash = path!.indexOf('/');
    const bucket = path!.slice(0, slash);
    const key = path!.slice(slash + 1).split('/').map(decodeURIComponent).join('/');
    const versionId = query?.startsWith('versionId=') ? query.slice('versionId='.length) : undefined;
    const v = this.find(bucket, key, versionId);
    if (!v) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
    return v;
  }

  /** S3's order: a pending 409 first, then If-None-Match, then If-Match. */
  private checkWriteConditions(bucketName: string, key: string, ifNoneMatch: string | undefined, ifMatch: string | undefined): void {
    if (ifNoneMatch === undefined && ifMatch === undefined) return;
    const pending = this.conflicts.get(`${bucketName}/${key}`) ?? 0;
    if (pending > 0) {
      this.conflicts.set(`${bucketName}/${key}`, pending - 1);
      throw s3Error('ConditionalRequestConflict', 409, 'The conditional request cannot succeed due to a conflicting operation against this resource.');
    }
    const current = this.current(bucketName, key);
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch !== '*') throw s3Error('NotImplemented', 501, 'If-None-Match only accepts "*" on writes.');
      if (current) throw s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    }
    if (ifMatch !== undefined) {
      if (!current) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
      if (current.etag !== ifMatch) throw s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    }
  }

  /** Checks every checksum sent against the body; computes the requested one when none was sent. */
  private verifyChecksums(input: Record<string, unknown>, body: Buffer, requested: string | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [field, algorithm] of Object.entries(CHECKSUM_FIELDS)) {
      const sent = input[field];
      if (typeof sent !== 'string') continue;
      const actual = checksumOf(algorithm, body);
      if (sent !== actual) throw s3Error('BadDigest', 400, `The ${algorithm} you specified did not match the calculated checksum.`);
      out[algorithm] = actual;
    }
    // The SDK sends the value in a trailer that S3 checks; under a mock the model computes it.
    if (requested && !out[requested]) out[requested] = checksumOf(requested, body);
    return out;
  }

  private store(bucket: BucketState, key: string, v: Omit<StoredVersion, 'versionId' | 'lastModified'>): StoredVersion {
    const versionId = bucket.versioned ? randomBytes(16).toString('base64url') : 'null';
    const stored: StoredVersion = { ...v, versionId, lastModified: new Date(Date.UTC(2024, 0, 1) + this.clock++ * 1000) };
    const list = bucket.versioned ? [...(bucket.objects.get(key) ?? [])] : [];
    list.push(stored);
    bucket.objects.set(key, list);
    return stored;
  }
}

function checksumOutput(checksums: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(checksums).map(([algorithm, value]) => [`Checksum${algorithm}`, value]));
}

/**
 * Routes every S3 command of `client` (or of every S3Client when absent) to the model. Returns
 * the stub, so tests can assert the exact commands sent.
 */
export function mockS3(model: S3Model, client?: S3Client): AwsStub<any, any, any> {
  const stub = client ? mockClient(client) : mockClient(S3Client);
  stub.on(PutObjectCommand).callsFake((i) => model.putObject(i));
  stub.on(GetObjectCommand).callsFake((i) => model.getObject(i));
  stub.on(HeadObjectCommand).callsFake((i) => model.headObject(i));
  stub.on(ListObjectsV2Command).callsFake((i) => model.listObjectsV2(i));
  stub.on(CopyObjectCommand).callsFake((i) => model.copyObject(i));
  stub.on(DeleteObjectCommand).callsFake((i) => model.deleteObject(i));
  stub.on(DeleteObjectsCommand).callsFake((i) => model.deleteObjects(i));
  stub.on(CreateMultipartUploadCommand).callsFake((i) => model.createMultipartUpload(i));
  stub.on(UploadPartCommand).callsFake((i) => model.uploadPart(i));
  stub.on(UploadPartCopyCommand).callsFake((i) => model.uploadPartCopy(i));
  stub.on(CompleteMultipartUploadCommand).callsFake((i) => model.completeMultipartUpload(i));
  stub.on(AbortMultipartUploadCommand).callsFake((i) => model.abortMultipartUpload(i));
  return stub;
}

/** A client that never reaches the network: region and credentials only satisfy the SDK. */
export function offlineS3Client(): S3Client {
  return new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
}
