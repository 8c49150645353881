import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { S3Store } from '../../lib/adapters/s3/s3-store';
import { deliveryRecordKey } from '../../lib/core/destinations/delivery-keys';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import { feedSchema } from '../../lib/core/feed/feed-schema';
import { leaseKey, manifestKey } from '../../lib/core/layout';
import { acquireLease, readLease } from '../../lib/core/lease';
import { ENV } from '../../lib/core/deploy-contract';
import { sha256Hex } from '../../lib/core/hash';
import { loadProject } from '../../lib/project/load-project';
import { buildPushDeps } from '../../lambdas/deployed-push';
import { makePushHandler } from '../../lambdas/push';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FileExchange } from '../../lib/cdk/file-exchange';
import { EXAMPLE, testApp } from '../../test/cdk/cdk-app';
import { grantsOf } from '../../test/cdk/iam';
import { audit, CallRecorder } from '../helpers/iam-audit';
import { validManifest } from '../../test/helpers/manifest-fixture';

/**
 * The deployed push function over moto: its deps built from the environment the construct sets
 * (real SDK clients, pointed at moto by AWS_ENDPOINT_URL), a drop in our bucket, the partner's
 * bucket written through the role it assumes (STS AssumeRole with their external id), with
 * `bucket-owner-full-control` and their KMS key, the manifest last.
 */
const ROLE = 'arn:aws:iam::210987654321:role/dropkit-inbound';
const KMS = 'arn:aws:kms:us-east-1:210987654321:key/11111111-2222-3333-4444-555555555555';
const OURS = `drops-push-${process.pid}`;
const THEIRS = `acme-inbound-${process.pid}`;
/** A second partner whose bucket policy grants our push function (no role of theirs). */
const GRANTED = `globex-drop-${process.pid}`;
const SLOT = '20240115T060000Z';

describe('the push Lambda', () => {
  let dir: string;
  let s3: S3Client;
  let env: NodeJS.ProcessEnv;
  let feed: FeedDefinition;
  const ref = { prefix: 'drops', feed: 'daily_orders', partner: null, slot: SLOT, runId: 'r1', revision: 1, manifestKey: '' };

  beforeAll(async () => {
    s3 = new S3Client({ endpoint: process.env.MOTO_ENDPOINT, forcePathStyle: true, region: 'us-east-1' });
    for (const Bucket of [OURS, THEIRS, GRANTED]) await s3.send(new CreateBucketCommand({ Bucket }));
    // The project's feeds as the construct bundles them, daily_orders pushing to the partner's bucket through their role.
    const base = loadProject(EXAMPLE, { localSources: false }).feeds.find((f) => f.spec.name === 'daily_orders')!;
    const destinations = [{ name: 'acme-bucket', type: 's3', bucket: THEIRS, prefix: 'inbound/shop', roleArn: ROLE, externalId: 'shop-x1', kmsKeyId: KMS }];
    feed = { ...base, spec: feedSchema.parse({ ...JSON.parse(JSON.stringify(base.spec)), destinations }) };
    dir = mkdtempSync(join(tmpdir(), 'dropkit-push-lambda-'));
    writeFileSync(join(dir, 'feeds.json'), JSON.stringify({ feeds: [feed] }));
    env = { ...process.env, [ENV.bucket]: OURS, [ENV.prefix]: 'drops', [ENV.feedsFile]: join(dir, 'feeds.json') };
    // A delivered drop in our bucket: one CSV part and its manifest.
    const store = new S3Store({ bucket: OURS, client: s3 });
    const key = manifestKey({ prefix: 'drops', feed: 'daily_orders', partner: null }, SLOT, 'r1');
    const csv = Buffer.from('order_id,amount\n1,9.50\n2,12.00\n');
    await store.put(key.replace('manifest.json', 'part-00000.csv'), csv);
    const files = [{ path: 'part-00000.csv', format: 'csv' as const, compression: 'none' as const, rows: 2, bytes: csv.length, sha256: sha256Hex(csv) }];
    await store.put(key, JSON.stringify(validManifest(files, { feed: 'daily_orders', runId: 'r1', slot: { ...validManifest([]).slot, id: SLOT } })));
    ref.manifestKey = key;
  });
  afterAll(() => {
    s3.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const theirs = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: THEIRS, Prefix: 'inbound/shop/' }))).Contents ?? []).map((o) => o.Key!).sort();

  it("copies the drop into the partner's bucket as their role, with bucket-owner-full-control and their KMS key, and reports it pushed", async () => {
    const handler = makePushHandler(async () => buildPushDeps(env));
    expect(await handler({ ref })).toEqual({ status: 'pushed', destinations: 1, failed: [] });
    const dropDir = `inbound/shop/daily_orders/slot=${SLOT}/run=r1/`;
    expect(await theirs()).toEqual([`${dropDir}manifest.json`, `${dropDir}part-00000.csv`]);
    for (const Key of await theirs()) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: THEIRS, Key }));
      expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS });
      const acl = await s3.send(new GetObjectAclCommand({ Bucket: THEIRS, Key }));
      expect(acl.Grants?.map((g) => g.Permission)).toContain('FULL_CONTROL');
    }
    // The manifest they get is ours plus what this destination received (delivery.delivered).
    const mine = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: OURS, Key: ref.manifestKey }))).Body!.transformToString());
    const got = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: THEIRS, Key: `${dropDir}manifest.json` }))).Body!.transformToString());
    expect({ ...got, delivery: undefined }).toEqual({ ...mine, delivery: undefined });
    expect(got.delivery.delivered).toMatchObject({ destination: 'acme-bucket', mode: 'full', files: [expect.objectContaining({ path: 'part-00000.csv' })] });
    // The record of what was sent, in our bucket, says who it wrote as.
    const record = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: OURS, Key: deliveryRecordKey(ref, 'acme-bucket') }))).Body!.transformToString(),
    );
    expect(record).toMatchObject({ status: 'delivered', units: ['part-00000.csv', 'manifest.json'], target: expect.stringContaining(`as ${ROLE}`) });
  });

  it('does not contact a destination that has the drop again (the next run of the slot)', async () => {
    for (const Key of await theirs()) await s3.send(new DeleteObjectCommand({ Bucket: THEIRS, Key }));
    const handler = makePushHandler(async () => buildPushDeps(env));
    expect(await handler({ ref })).toEqual({ status: 'pushed', destinations: 1, failed: [] });
    expect(await theirs()).toEqual([]);
  });

  it('reports a destination it cannot write to as incomplete, naming it, without throwing; a run not delivered is an error', async () => {
    const feeds = JSON.parse(readFileSync(join(dir, 'feeds.json'), 'utf8'));
    feeds.feeds[0].spec.destinations.push({
      ...feeds.feeds[0].spec.destinations[0],
      name: 'gone',
      bucket: `no-such-bucket-${process.pid}`,
      roleArn: undefined,
    });
    writeFileSync(join(dir, 'feeds-gone.json'), JSON.stringify(feeds));
    const handler = makePushHandler(async () => buildPushDeps({ ...env, [ENV.feedsFile]: join(dir, 'feeds-gone.json') }));
    const out = await handler({ ref });
    expect(out).toMatchObject({ status: 'incomplete', destinations: 2, failed: [expect.stringMatching(/^gone: .*NoSuchBucket/)] });
    // The step graph turns a thrown push into an operator alert and goes on to notify.
    const other = { ...ref, runId: 'r2', manifestKey: ref.manifestKey.replace('run=r1', 'run=r2') };
    await expect(handler({ ref: other })).rejects.toThrow(/run=r2\/manifest.json is not in the store: run r2 was not delivered/);
  });

  it("renews the attempt's lease on the slot in our bucket, and stops without writing to the partner when another attempt owns the slot", async () => {
    const store = new S3Store({ bucket: OURS, client: s3 });
    const other = { ...ref, runId: 'r4', manifestKey: ref.manifestKey.replace('run=r1', 'run=r4') };
    for (const name of ['part-00000.csv', 'manifest.json'])
      await store.put(other.manifestKey.replace('manifest.json', name), (await store.get(ref.manifestKey.replace('manifest.json', name)))!.body);
    const key = leaseKey(other, SLOT);
    // A lease of the publishing attempt that has run out (nobody took the slot meanwhile): the push renews it (S3 conditional write).
    const at = new Date('2024-01-15T07:00:00Z');
    await store.deletePrefix(key);
    expect((await acquireLease(store, key, { attemptId: 'a4', runId: 'r4' }, at, { ttlSeconds: 600 })).acquired).toBe(true);
    const handler = makePushHandler(async () => buildPushDeps(env));
    expect(await handler({ ref: other, attemptId: 'a4' })).toEqual({ status: 'pushed', destinations: 1, failed: [] });
    const renewed = await readLease(store, key);
    expect(renewed?.attemptId).toBe('a4');
    expect(Date.parse(renewed!.expiresAt)).toBeGreaterThan(at.getTime() + 600_000);

    // Another attempt owns the slot now: the push writes nothing to the partner and reports it pending.
    const taken = { ...other, runId: 'r5', manifestKey: other.manifestKey.replace('run=r4', 'run=r5') };
    for (const name of ['part-00000.csv', 'manifest.json'])
      await store.put(taken.manifestKey.replace('manifest.json', name), (await store.get(other.manifestKey.replace('manifest.json', name)))!.body);
    await store.put(key, JSON.stringify({ ...renewed, attemptId: 'rerun' }));
    const before = await theirs();
    const out = await handler({ ref: taken, attemptId: 'a4' });
    expect(out).toMatchObject({ status: 'incomplete', failed: [expect.stringMatching(/^acme-bucket: SlotBusyError: another run took over this slot/)] });
    expect(await theirs()).toEqual(before);
    expect((await readLease(store, key))?.attemptId).toBe('rerun');
  });

  it("makes only calls the push function's synthesized policy allows (the partner role's own calls aside)", async () => {
    const granted = { name: 'globex-bucket', type: 's3', bucket: GRANTED, prefix: 'in', kmsKeyId: KMS };
    const spec = feedSchema.parse({ ...JSON.parse(JSON.stringify(feed.spec)), destinations: [...feed.spec.destinations, granted] });
    const audited: FeedDefinition = { ...feed, spec };
    const stack = new Stack(testApp(), 'PushAudit', { env: { account: '123456789012', region: 'us-east-1' } });
    new FileExchange(stack, 'Exchange', { feeds: [audited], keyPrefix: 'drops' });
    const template = Template.fromStack(stack);
    const bucketArn = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) => /^ExchangeDropsBucketDrops[0-9A-F]{8}$/.test(id))!;
    const grants = grantsOf(template, 'ExchangePipelinePushFunctionRole').map((g) => ({
      ...g,
      resource: g.resource.replace(`<${bucketArn}.Arn>`, `arn:aws:s3:::${OURS}`).replace('<AWS::Partition>', 'aws'),
    }));
    writeFileSync(join(dir, 'feeds-audit.json'), JSON.stringify({ feeds: [audited] }));
    const recorder = new CallRecorder({ region: 'us-east-1', account: '123456789012' }).install();
    try {
      const handler = makePushHandler(async () => buildPushDeps({ ...env, [ENV.feedsFile]: join(dir, 'feeds-audit.json') }));
      const other = { ...ref, runId: 'r3', manifestKey: ref.manifestKey.replace('run=r1', 'run=r3') };
      await recorder.outside(async () => {
        const store = new S3Store({ bucket: OURS, client: s3 });
        for (const name of ['part-00000.csv', 'manifest.json']) {
          const got = await store.get(ref.manifestKey.replace('manifest.json', name));
          await store.put(other.manifestKey.replace('manifest.json', name), got!.body);
        }
      });
      // Under the publishing attempt's lease, as the state machine invokes it: the push renews that lease in our bucket.
      await recorder.outside(async () => {
        await new S3Store({ bucket: OURS, client: s3 }).deletePrefix(leaseKey(other, SLOT)); // the slot's lease an earlier test left taken
        const taken = await acquireLease(new S3Store({ bucket: OURS, client: s3 }), leaseKey(other, SLOT), { attemptId: 'a3', runId: 'r3' }, new Date(), {
          ttlSeconds: 600,
        });
        expect(taken.acquired).toBe(true);
      });
      expect(await recorder.as('PushFunction', () => handler({ ref: other, attemptId: 'a3' }))).toMatchObject({ status: 'pushed', destinations: 2 });
    } finally {
      recorder.restore();
    }
    // Writes into the role's bucket are made with the credentials STS handed out: their role's policy decides those.
    const ours = recorder.calls.filter((c) => !c.resource.startsWith(`arn:aws:s3:::${THEIRS}/`) && c.resource !== `arn:aws:s3:::${THEIRS}`);
    expect(ours.map((c) => c.action)).toEqual(expect.arrayContaining(['sts:AssumeRole', 's3:PutObject', 's3:PutObjectAcl', 's3:GetObject', 's3:ListBucket']));
    expect(ours.filter((c) => c.action === 's3:PutObject' && c.resource.includes('/drops/_leases/'))).not.toEqual([]);
    expect(audit(ours, new Map([['PushFunction', grants]])).denied).toEqual([]);
  });
});
