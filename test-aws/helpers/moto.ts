import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';

/** The moto server global-setup started; every SDK client of the tests goes there. */
export function motoEndpoint(): string {
  const endpoint = process.env.MOTO_ENDPOINT;
  if (!endpoint) throw new Error('MOTO_ENDPOINT is not set: run these tests with `npm run test:aws` (jest -c jest.aws.config.js)');
  return endpoint;
}

/** Settings for any SDK client: moto's endpoint, dummy credentials, one region. SigV4 still signs every request. */
export function motoClientConfig(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
  return { endpoint: motoEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

/** An S3 client for moto: path-style, as for any S3-compatible endpoint. */
export function motoS3Client(extra: S3ClientConfig = {}): S3Client {
  return new S3Client({ ...motoClientConfig(), forcePathStyle: true, ...extra });
}

/** A name no other test file uses (moto's state is shared by all of them). */
export function uniqueName(stem: string): string {
  return `${stem}-${randomBytes(4).toString('hex')}`;
}

/** Creates a bucket (versioned unless told otherwise) and returns its name. */
export async function createBucket(stem: string, options: { versioned?: boolean } = {}): Promise<string> {
  const bucket = uniqueName(stem);
  const s3 = motoS3Client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (options.versioned !== false) await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return bucket;
}
