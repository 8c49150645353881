import 'aws-sdk-client-mock-jest';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { AwsStub } from 'aws-sdk-client-mock';
import { InvalidStoreUrlError, parseS3Url, s3ClientConfigFromEnv, S3Store } from '../../lib/adapters/s3/s3-store';
import { PreconditionFailed } from '../../lib/core/ports/object-store';
import { checksumOf, mockS3, offlineS3Client, S3Model } from '../helpers/s3-model';

const MiB = 1024 * 1024;

/** Deterministic bytes, different in every position that matters for a checksum. */
function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function chunked(buf: Buffer, size = 256 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return Readable.from(chunks);
}

describe('S3Store (commands sent, over the S3 model)', () => {
  let model: S3Model;
  let stub: AwsStub<any, any, any>;
  let store: S3Store;
  let waits: number[];

  function makeStore(options: Partial<ConstructorParameters<typeof S3Store>[0]> = {}): S3Store {
    return new S3Store({ bucket: 'drops', prefix: 'root', client: store.client, partSize: 5 * MiB, sleep: async (ms) => void waits.push(ms), ...options });
  }

  beforeEach(() => {
    model = new S3Model().createBucket('drops', { versioned: true }).createBucket('plain');
    const client = offlineS3Client();
    stub = mockS3(model, client);
    waits = [];
    store = new S3Store({ bucket: 'drops', prefix: 'root', client, partSize: 5 * MiB, sleep: async (ms) => void waits.push(ms) });
  });
  afterEach(() => stub.restore());

  describe('put', () => {
    it('sends one PutObject with the prefixed key, content type, CRC32 checksum and SSE-S3', async () => {
      const out = await store.put('feed/manifest.json', '{"a":1}', { contentType: 'application/json' });
      expect(stub).toHaveReceivedCommandTimes(PutObjectCommand, 1);
      expect(stub.commandCalls(PutObjectCommand)[0]!.args[0].input).toEqual({
        Bucket: 'drops',
        Key: 'root/feed/manifest.json',
        ContentType: 'application/json',
        ChecksumAlgorithm: 'CRC32',
        ServerSideEncryption: 'AES256',
        Body: Buffer.from('{"a":1}'),
      });
      expect(out.etag).toBe(`"${createHash('md5').update('{"a":1}').digest('hex')}"`);
      expect(model.current('drops', 'root/feed/manifest.json')?.checksums).toEqual({ CRC32: checksumOf('CRC32', Buffer.from('{"a":1}')) });
    });

    it('encrypts with the KMS key when one is given', async () => {
      const kms = makeStore({ kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k-1' });
      await kms.put('x', 'y');
      expect(stub).toHaveReceivedCommandWith(PutObjectCommand, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k-1' });
      expect(model.current('drops', 'root/x')).toMatchObject({ sse: 'aws:kms', kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k-1' });
    });

    it('returns the version id in a versioned bucket and none otherwise', async () => {
      const versioned = await store.put('v', 'one');
      const again = await store.put('v', 'two');
      expect(versioned.versionId).toEqual(expect.any(String));
      expect(again.versionId).not.toBe(versioned.versionId);
      expect(model.versions('drops', 'root/v').map((v) => v.versionId)).toEqual([versioned.versionId, again.versionId]);
      const plain = await makeStore({ bucket: 'plain' }).put('v', 'one');
      expect(plain).toEqual({ etag: expect.any(String) });
    });

    it('streams a large body as a multipart upload with per-part checksums that S3 verifies on completion', async () => {
      const body = bytes(12 * MiB + 7);
      const out = await store.put('big/part-00000.csv', chunked(body), { contentType: 'text/csv' });
      expect(stub).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
        Key: 'root/big/part-00000.csv',
        ChecksumAlgorithm: 'CRC32',
        ServerSideEncryption: 'AES256',
        ContentType: 'text/csv',
      });
      expect(stub).toHaveReceivedCommandTimes(UploadPartCommand, 3);
      const complete = stub.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
      // The model refuses a composite-checksum upload whose completion lacks any part's CRC32.
      expect(complete.MultipartUpload!.Parts!.map((p: { ChecksumCRC32?: string }) => p.ChecksumCRC32)).toEqual([
        checksumOf('CRC32', body.subarray(0, 5 * MiB)),
        checksumOf('CRC32', body.subarray(5 * MiB, 10 * MiB)),
        checksumOf('CRC32', body.subarray(10 * MiB)),
      ]);
      expect(out.etag).toMatch(/^"[0-9a-f]{32}-3"$/);
      expect(model.current('drops', 'root/big/part-00000.csv')?.body.equals(body)).toBe(true);
      expect(model.openUploads()).toEqual([]);
    });

    it('writes a conditional multipart body with If-None-Match on the completion', async () => {
      await store.put('big.json', bytes(6 * MiB), { precondition: { ifNoneMatch: '*' } });
      expect(stub).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, { IfNoneMatch: '*' });
      await expect(store.put('big.json', bytes(6 * MiB, 2), { precondition: { ifNoneMatch: '*' } })).rejects.toBeInstanceOf(PreconditionFailed);
      expect(model.current('drops', 'root/big.json')?.body.equals(bytes(6 * MiB))).toBe(true);
      expect(model.openUploads()).toEqual([]);
    });

    it('rejects keys that the local store rejects, naming them, before sending anything', async () => {
      for (const key of ['../x', '/abs', 'a//b', 'a/./b', 'a\\b', '', 'a/']) {
        await expect(store.put(key, 'x')).rejects.toThrow(JSON.stringify(key));
      }
      await expect(store.put(`${'k'.repeat(1020)}`, 'x')).rejects.toThrow("longer than S3's 1024 bytes");
      expect(stub.calls()).toHaveLength(0);
    });
  });

  describe('faults', () => {
    it('aborts the multipart upload when a part fails, and the put rejects', async () => {
      model.failUploadPart(2);
      await expect(store.put('big/part-00000.csv', chunked(bytes(12 * MiB)))).rejects.toThrow('internal error');
      expect(stub).toHaveReceivedCommandTimes(AbortMultipartUploadCommand, 1);
      expect(stub).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
      expect(model.openUploads()).toEqual([]);
      expect(await store.exists('big/part-00000.csv')).toBe(false);
    });

    it('aborts the multipart upload when the source stream breaks', async () => {
      async function* breaking() {
        yield bytes(6 * MiB);
        throw new Error('export died');
      }
      await expect(store.put('big/part-00001.csv', Readable.from(breaking()))).rejects.toThrow('export died');
      expect(model.openUploads()).toEqual([]);
      expect(await store.exists('big/part-00001.csv')).toBe(false);
    });

    it('throws PreconditionFailed when a pointer write loses the race (If-Match on a stale ETag)', async () => {
      const { etag } = await store.put('feed/latest.json', 'v1');
      await store.put('feed/latest.json', 'v2 by the other run');
      await expect(store.put('feed/latest.json', 'v2 by us', { precondition: { ifMatch: etag } })).rejects.toBeInstanceOf(PreconditionFailed);
      expect(stub).toHaveReceivedNthSpecificCommandWith(3, PutObjectCommand, { IfMatch: etag });
      expect((await store.get('feed/latest.json'))?.body.toString()).toBe('v2 by the other run');
    });

    it('maps If-Match on a missing key (404 NoSuchKey) to PreconditionFailed', async () => {
      await expect(store.put('feed/latest.json', 'x', { precondition: { ifMatch: '"abc"' } })).rejects.toBeInstanceOf(PreconditionFailed);
      expect(stub).toHaveReceivedCommandWith(PutObjectCommand, { IfMatch: '"abc"' });
    });

    it('surfaces a missing bucket instead of reading it as a missing object', async () => {
      const nowhere = makeStore({ bucket: 'no-such-bucket' });
      await expect(nowhere.get('x')).rejects.toMatchObject({ name: 'NoSuchBucket' });
      await expect(nowhere.put('x', 'y', { precondition: { ifMatch: '"abc"' } })).rejects.toMatchObject({ name: 'NoSuchBucket' });
    });

    it('retries a write answered 409 ConditionalRequestConflict, with backoff, and succeeds', async () => {
      model.injectConflicts('drops', 'root/feed/manifest.json', 2);
      const out = await store.put('feed/manifest.json', '{}', { precondition: { ifNoneMatch: '*' } });
      expect(stub).toHaveReceivedCommandTimes(PutObjectCommand, 3);
      expect(waits).toHaveLength(2);
      expect(waits[1]!).toBeGreaterThan(waits[0]! / 2); // grows (jittered)
      expect((await store.get('feed/manifest.json'))?.etag).toBe(out.etag);
    });

    it('ends in PreconditionFailed when the write that caused the 409 won', async () => {
      const { etag } = await store.put('feed/latest.json', 'v1');
      model.injectConflicts('drops', 'root/feed/latest.json', 1);
      // The concurrent writer lands while we back off after the conflict.
      const racing = makeStore({
        sleep: async () => void (await model.putObject({ Bucket: 'drops', Key: 'root/feed/latest.json', Body: 'v2 by the other run' })),
      });
      await expect(racing.put('feed/latest.json', 'v2 by us', { precondition: { ifMatch: etag } })).rejects.toBeInstanceOf(PreconditionFailed);
      expect(stub).toHaveReceivedCommandTimes(PutObjectCommand, 3);
      expect((await store.get('feed/latest.json'))?.body.toString()).toBe('v2 by the other run');
    });

    it('gives up after the last retry and rethrows the conflict', async () => {
      model.injectConflicts('drops', 'root/p.json', 10);
      const limited = makeStore({ conflictRetries: 2 });
      await expect(limited.put('p.json', '{}', { precondition: { ifNoneMatch: '*' } })).rejects.toMatchObject({ name: 'ConditionalRequestConflict' });
      expect(stub).toHaveReceivedCommandTimes(PutObjectCommand, 3);
    });

    it('does not retry a streamed body after a 409, since it cannot be sent twice', async () => {
      model.injectConflicts('drops', 'root/s.json', 1);
      await expect(store.put('s.json', Readable.from([Buffer.from('{}')]), { precondition: { ifNoneMatch: '*' } })).rejects.toMatchObject({
        name: 'ConditionalRequestConflict',
      });
      expect(stub).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    });
  });

  describe('move', () => {
    it('copies with If-None-Match "*" and the encoded source, then deletes the source', async () => {
      await store.put('_staging/run=1/part 0.csv', 'rows');
      await store.move('_staging/run=1/part 0.csv', 'feed/slot=1/run=1/part 0.csv');
      expect(stub.commandCalls(CopyObjectCommand)[0]!.args[0].input).toEqual({
        Bucket: 'drops',
        Key: 'root/feed/slot=1/run=1/part 0.csv',
        CopySource: 'drops/root/_staging/run=1/part%200.csv',
        IfNoneMatch: '*',
        ServerSideEncryption: 'AES256',
      });
      expect(stub).toHaveReceivedCommandWith(DeleteObjectCommand, { Key: 'root/_staging/run=1/part 0.csv' });
      expect((await store.get('feed/slot=1/run=1/part 0.csv'))?.body.toString()).toBe('rows');
    });

    it('copies part by part above the multipart threshold, refusing an existing target', async () => {
      const big = makeStore({ multipartCopyThreshold: 8 * MiB, copyPartSize: 5 * MiB });
      const body = bytes(11 * MiB);
      await big.put('from.bin', body);
      await big.move('from.bin', 'to.bin');
      const ranges = stub.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input.CopySourceRange);
      expect(ranges).toEqual([`bytes=0-${5 * MiB - 1}`, `bytes=${5 * MiB}-${10 * MiB - 1}`, `bytes=${10 * MiB}-${11 * MiB - 1}`]);
      expect(stub).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, { Key: 'root/to.bin', IfNoneMatch: '*' });
      expect(stub).not.toHaveReceivedCommand(CopyObjectCommand);
      expect(model.current('drops', 'root/to.bin')?.body.equals(body)).toBe(true);
      expect(await big.exists('from.bin')).toBe(false);

      await big.put('again.bin', body);
      await expect(big.move('again.bin', 'to.bin')).rejects.toThrow('"to.bin": the target exists');
      expect(model.openUploads()).toEqual([]);
      expect(await big.exists('again.bin')).toBe(true);
    });
  });

  describe('deletePrefix', () => {
    it('deletes in DeleteObjects batches of at most 1000 keys', async () => {
      const client = offlineS3Client();
      stub.restore();
      stub = mockS3(model, client);
      const plain = new S3Store({ bucket: 'plain', client, listPageSize: 1000 });
      for (let i = 0; i < 2300; i++) await model.putObject({ Bucket: 'plain', Key: `stage/${String(i).padStart(4, '0')}`, Body: 'x' });
      await model.putObject({ Bucket: 'plain', Key: 'keep/x', Body: 'x' });
      await plain.deletePrefix('stage/');
      expect(stub.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete!.Objects!.length)).toEqual([1000, 1000, 300]);
      expect(stub).toHaveReceivedCommandWith(DeleteObjectsCommand, { Bucket: 'plain', Delete: { Objects: expect.any(Array), Quiet: true } });
      const left: string[] = [];
      for await (const o of plain.list('')) left.push(o.key);
      expect(left).toEqual(['keep/x']);
    });

    it('fails when DeleteObjects reports keys it could not delete', async () => {
      await store.put('stage/a', 'a');
      stub.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'root/stage/a', Code: 'AccessDenied', Message: 'Access Denied' }] });
      await expect(store.deletePrefix('stage/')).rejects.toThrow('could not delete 1 object(s) under "stage/", e.g. root/stage/a: AccessDenied Access Denied');
    });
  });
});

describe('S3 store URLs and endpoints', () => {
  it('parses s3://bucket/prefix and s3://bucket', () => {
    expect(parseS3Url('s3://my-drops/team/feeds/')).toEqual({ bucket: 'my-drops', prefix: 'team/feeds/' });
    expect(parseS3Url('s3://my-drops')).toEqual({ bucket: 'my-drops', prefix: '' });
    const store = S3Store.fromUrl('s3://my-drops/x', { client: offlineS3Client() });
    expect([store.bucket, store.prefix, store.objectKey('a.csv')]).toEqual(['my-drops', 'x/', 'x/a.csv']);
  });

  it.each([
    ['https://my-drops/x', 'it does not start with s3://'],
    ['s3://My_Drops/x', '"My_Drops" is not a valid bucket name'],
    ['s3://my-drops/a/../b', 'must not contain "." or ".." segments'],
  ])('refuses %j, saying why and what is expected', (url, why) => {
    expect(() => parseS3Url(url)).toThrow(InvalidStoreUrlError);
    expect(() => parseS3Url(url)).toThrow(why);
    expect(() => parseS3Url(url)).toThrow('expected s3://bucket or s3://bucket/prefix');
  });

  it('sends requests path-style to AWS_ENDPOINT_URL_S3 when it is set', async () => {
    expect(s3ClientConfigFromEnv({})).toEqual({});
    expect(s3ClientConfigFromEnv({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', AWS_REGION: 'eu-west-1' })).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      region: 'eu-west-1',
    });
    const saved = { ...process.env };
    try {
      process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:9000';
      const store = new S3Store({ bucket: 'b' });
      expect(store.client.config.forcePathStyle).toBe(true);
      const endpoint = await store.client.config.endpoint?.();
      expect(endpoint).toMatchObject({ hostname: '127.0.0.1', port: 9000 });
    } finally {
      process.env = saved;
    }
  });
});

describe('S3Store against a server that hangs', () => {
  it('fails the request after its idle timeout instead of waiting forever', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    // Accepts connections and never answers.
    const server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    try {
      const store = new S3Store({
        bucket: 'drops',
        clientConfig: {
          endpoint: `http://127.0.0.1:${port}`,
          forcePathStyle: true,
          region: 'eu-west-1',
          credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
          maxAttempts: 1,
        },
        timeouts: { connectMs: 1000, idleMs: 300 },
      });
      await expect(store.get('daily/latest.json')).rejects.toThrow(/timeout|timed out|socket/i);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
