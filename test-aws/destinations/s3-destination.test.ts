import { CreateBucketCommand, GetObjectAclCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PartnerS3Sink, type PartnerS3SinkOptions } from '../../lib/adapters/s3/s3-destination';
import { destinationContract, observedFileDestination, type DestinationFixture } from '../../test/destinations/destination.contract';
import { motoEndpoint } from './moto';

const credentials = { accessKeyId: 'AKIAOURACCOUNT000000', secretAccessKey: 'ours' };
const KMS = 'arn:aws:kms:eu-west-1:210987654321:key/11111111-2222-3333-4444-555555555555';
const ROLE = 'arn:aws:iam::210987654321:role/dropkit-inbound';

let bucketSeq = 0;

async function partnerBucket(endpoint: string): Promise<{ s3: S3Client; bucket: string }> {
  const s3 = new S3Client({ endpoint, region: 'eu-west-1', forcePathStyle: true, credentials });
  const bucket = `partner-inbound-${process.pid}-${++bucketSeq}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
  return { s3, bucket };
}

const sinkOptions = (endpoint: string, bucket: string, over: Partial<PartnerS3SinkOptions> = {}): PartnerS3SinkOptions => ({
  bucket,
  prefix: 'from-us',
  roleArn: ROLE,
  externalId: 'shared-external-id',
  kmsKeyId: KMS,
  clientConfig: { endpoint, region: 'eu-west-1', forcePathStyle: true, credentials },
  stsClientConfig: { endpoint, region: 'eu-west-1' },
  ...over,
});

async function holds(s3: S3Client, bucket: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'from-us/' }));
  for (const o of listed.Contents ?? []) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
    out.set(o.Key!.slice('from-us/'.length), Buffer.from(await got.Body!.transformToByteArray()));
  }
  return out;
}

let moto: Awaited<ReturnType<typeof motoEndpoint>>;
beforeAll(async () => (moto = await motoEndpoint()));
afterAll(() => moto.stop());

destinationContract('partner S3 (moto server): their role, their KMS key', async () => {
  const { s3, bucket } = await partnerBucket(moto.endpoint);
  const log: string[] = [];
  return {
    takes: 'files',
    destination: async (name, { failOnUnit }) => observedFileDestination(name, new PartnerS3Sink(sinkOptions(moto.endpoint, bucket)), log, failOnUnit),
    holds: () => holds(s3, bucket),
    arrivals: () => log,
    close: async () => s3.destroy(),
  } satisfies DestinationFixture;
});

describe('PartnerS3Sink on moto', () => {
  it('writes with bucket-owner-full-control and their KMS key, under credentials of the role it assumed', async () => {
    const { s3, bucket } = await partnerBucket(moto.endpoint);
    const sink = new PartnerS3Sink(sinkOptions(moto.endpoint, bucket));
    const { Readable } = await import('node:stream');
    await sink.put('a/b.csv', async () => Readable.from([Buffer.from('id\n1\n')]), 5);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'from-us/a/b.csv' }));
    expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS, ContentLength: 5 });
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'from-us/a/b.csv' }));
    expect(acl.Grants?.map((g) => g.Permission)).toContain('FULL_CONTROL');
    // The S3 client signs with what STS handed out for the partner's role, not with our keys.
    const used = await (sink as unknown as { client: S3Client }).client.config.credentials();
    expect(used.accessKeyId).not.toBe(credentials.accessKeyId);
    expect(used.sessionToken).toBeTruthy();
    expect(await sink.size('a/b.csv')).toBe(5);
    expect(await sink.size('a/none.csv')).toBeUndefined();
    await sink.close();
    s3.destroy();
  });
});
