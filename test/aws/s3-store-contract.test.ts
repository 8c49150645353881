import { randomBytes } from 'node:crypto';
import { S3Store } from '../../lib/adapters/s3/s3-store';
import { objectStoreContract } from '../contract/object-store.contract';
import { mockS3, offlineS3Client, S3Model } from '../helpers/s3-model';
import { RunningS3rver, startS3rver } from '../helpers/s3rver';

// Pages of two keys, so every listing in the contract crosses page boundaries.
const LIST_PAGE = 2;

objectStoreContract('S3Store over aws-sdk-client-mock backed by the S3 model (ObjectStore contract)', async () => {
  const model = new S3Model().createBucket('drops', { versioned: true });
  const client = offlineS3Client();
  const stub = mockS3(model, client);
  const store = new S3Store({ bucket: 'drops', prefix: 'root', client, listPageSize: LIST_PAGE, partSize: 5 * 1024 * 1024 });
  return { store, cleanup: async () => void stub.restore() };
});

let server: RunningS3rver;
beforeAll(async () => {
  server = await startS3rver(['wire']);
});
afterAll(async () => {
  await server?.stop();
});

objectStoreContract(
  'S3Store over s3rver on loopback (ObjectStore contract, wire level)',
  async () => {
    // One server for the file; each test gets its own store root inside the bucket.
    const prefix = `t-${randomBytes(6).toString('hex')}`;
    const store = new S3Store({ bucket: 'wire', prefix, client: server.client(), listPageSize: LIST_PAGE, partSize: 5 * 1024 * 1024 });
    return { store, cleanup: () => store.deletePrefix('') };
  },
  // s3rver accepts If-None-Match / If-Match and overwrites anyway.
  { conditionalWrites: false, listsInKeyOrder: false },
);
