import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsStub } from 'aws-sdk-client-mock';
import { checksumOf, mockS3, offlineS3Client, S3Model } from '../helpers/s3-model';

const MiB = 1024 * 1024;

/** The model's own rules, checked through a real S3Client whose commands the mock routes to it. */
describe('S3 model (the rules the mocked S3 enforces)', () => {
  let model: S3Model;
  let client: S3Client;
  let stub: AwsStub<any, any, any>;
  beforeEach(() => {
    model = new S3Model().createBucket('b', { versioned: true });
    client = offlineS3Client();
    stub = mockS3(model, client);
  });
  afterEach(() => stub.restore());

  const put = (Key: string, Body: string, extra: Record<string, unknown> = {}) => client.send(new PutObjectCommand({ Bucket: 'b', Key, Body, ...extra }));

  it('answers 412 PreconditionFailed to If-None-Match "*" on an existing key', async () => {
    await put('k', 'one');
    await expect(put('k', 'two', { IfNoneMatch: '*' })).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
  });

  it('answers 404 NoSuchKey to If-Match on a missing key and 412 to a stale ETag', async () => {
    await expect(put('k', 'x', { IfMatch: '"abc"' })).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    const { ETag } = await put('k', 'one');
    await put('k', 'two');
    await expect(put('k', 'three', { IfMatch: ETag })).rejects.toMatchObject({ name: 'PreconditionFailed' });
  });

  it('answers an injected 409 ConditionalRequestConflict to conditional writes only, as many times as asked', async () => {
    model.injectConflicts('b', 'k', 1);
    await put('k', 'plain'); // unconditional: not affected
    await expect(put('k', 'x', { IfMatch: '"zzz"' })).rejects.toMatchObject({ name: 'ConditionalRequestConflict', $metadata: { httpStatusCode: 409 } });
    await expect(put('k', 'x', { IfMatch: '"zzz"' })).rejects.toMatchObject({ name: 'PreconditionFailed' });
  });

  it('refuses a body whose sent checksum does not match (400 BadDigest)', async () => {
    await expect(put('k', 'body', { ChecksumCRC32: checksumOf('CRC32', Buffer.from('other')) })).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
    await expect(put('k', 'body', { ChecksumSHA256: checksumOf('SHA256', Buffer.from('body')) })).resolves.toMatchObject({ ChecksumSHA256: checksumOf('SHA256', Buffer.from('body')) });
  });

  it('refuses to complete a CRC32 multipart upload without each part checksum, and parts under 5 MiB but the last', async () => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'b', Key: 'm', ChecksumAlgorithm: 'CRC32' }));
    const p1 = await client.send(new UploadPartCommand({ Bucket: 'b', Key: 'm', UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 1) }));
    const p2 = await client.send(new UploadPartCommand({ Bucket: 'b', Key: 'm', UploadId, PartNumber: 2, Body: Buffer.alloc(10, 2) }));
    const complete = (Parts: object[]) => client.send(new CompleteMultipartUploadCommand({ Bucket: 'b', Key: 'm', UploadId, MultipartUpload: { Parts } }));
    await expect(complete([{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }])).rejects.toThrow('must include the checksum for each part');
    await expect(
      complete([{ PartNumber: 1, ETag: p1.ETag, ChecksumCRC32: p1.ChecksumCRC32 }, { PartNumber: 2, ETag: p2.ETag, ChecksumCRC32: p2.ChecksumCRC32 }]),
    ).resolves.toMatchObject({ ETag: expect.stringMatching(/-2"$/) });

    const small = await client.send(new CreateMultipartUploadCommand({ Bucket: 'b', Key: 's' }));
    const s1 = await client.send(new UploadPartCommand({ Bucket: 'b', Key: 's', UploadId: small.UploadId, PartNumber: 1, Body: 'tiny' }));
    const s2 = await client.send(new UploadPartCommand({ Bucket: 'b', Key: 's', UploadId: small.UploadId, PartNumber: 2, Body: 'tiny' }));
    await expect(
      client.send(new CompleteMultipartUploadCommand({ Bucket: 'b', Key: 's', UploadId: small.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: s1.ETag }, { PartNumber: 2, ETag: s2.ETag }] } })),
    ).rejects.toMatchObject({ name: 'EntityTooSmall' });
  });

  it('keeps versions and leaves a delete marker in a versioned bucket', async () => {
    const v1 = await put('k', 'one');
    await client.send(new DeleteObjectCommand({ Bucket: 'b', Key: 'k' }));
    await expect(client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    const old = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k', VersionId: v1.VersionId }));
    const chunks: Buffer[] = [];
    for await (const c of old.Body as AsyncIterable<Buffer>) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('one');
    expect(model.versions('b', 'k').map((v) => v.deleteMarker)).toEqual([false, true]);
  });

  it('pages ListObjectsV2 by MaxKeys in UTF-8 byte order', async () => {
    for (const k of ['a0', 'a/b', 'a-c', 'é', 'z']) await put(k, k);
    const first = await client.send(new ListObjectsV2Command({ Bucket: 'b', MaxKeys: 3 }));
    expect(first.Contents!.map((o) => o.Key)).toEqual(['a-c', 'a/b', 'a0']);
    expect(first.IsTruncated).toBe(true);
    const second = await client.send(new ListObjectsV2Command({ Bucket: 'b', MaxKeys: 3, ContinuationToken: first.NextContinuationToken }));
    expect(second.Contents!.map((o) => o.Key)).toEqual(['z', 'é']);
    expect(second.IsTruncated).toBe(false);
  });

  it('refuses DeleteObjects with more than 1000 keys', async () => {
    const Objects = Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` }));
    await expect(client.send(new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects } }))).rejects.toMatchObject({ name: 'MalformedXML' });
  });
});
