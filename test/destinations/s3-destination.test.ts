import { Readable } from 'node:stream';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { PartnerS3Sink } from '../../lib/adapters/s3/s3-destination';

describe('PartnerS3Sink', () => {
  it('puts every object with bucket-owner-full-control and their KMS key, under their prefix', async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
    const sink = new PartnerS3Sink({
      bucket: 'partner-inbound',
      prefix: '/from-us/',
      kmsKeyId: 'arn:aws:kms:eu-west-1:210987654321:key/k',
      client: new S3Client({ region: 'eu-west-1' }),
    });
    await sink.put('daily/manifest.json', async () => Readable.from([Buffer.from('{}')]), 2);
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({
      Bucket: 'partner-inbound',
      Key: 'from-us/daily/manifest.json',
      ACL: 'bucket-owner-full-control',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:210987654321:key/k',
    });
    s3.restore();
  });

  it('reads an absent object as undefined, so a resumed delivery sends it', async () => {
    const s3 = mockClient(S3Client);
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    const sink = new PartnerS3Sink({ bucket: 'partner-inbound', client: new S3Client({ region: 'eu-west-1' }) });
    expect(await sink.size('x')).toBeUndefined();
    s3.restore();
  });
});
