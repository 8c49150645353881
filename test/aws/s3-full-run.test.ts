import 'aws-sdk-client-mock-jest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AbortMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeNotifier } from '../../lib/adapters/eventbridge/eventbridge-notifier';
import { SnsNotifier } from '../../lib/adapters/sns/sns-notifier';
import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { S3LinkSigner } from '../../lib/adapters/s3/s3-link-signer';
import { S3Store } from '../../lib/adapters/s3/s3-store';
import { latestKey } from '../../lib/core/layout';
import type { LatestPointer, Manifest } from '../../lib/core/manifest';
import type { RunRecord } from '../../lib/core/run-record';
import { fixedClock } from '../../lib/core/ports/clock';
import type { DropDeliveredEvent, DropEvent, Notifier, NotifyOutcome } from '../../lib/core/ports/notifier';
import { localDeps } from '../helpers/local-run';
import { loadProject } from '../../lib/project/load-project';
import { runSlot, RunOutcome } from '../../lib/runner/run-slot';
import { listKeys, readJson } from '../helpers/local-run';
import { manifestProblems } from '../../lib/core/manifest-schema';
import { mockS3, offlineS3Client, S3Model } from '../helpers/s3-model';
import { RunningS3rver, startS3rver } from '../helpers/s3rver';
import { DAILY_SQL, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

/**
 * The local pipeline (DuckDB staging, validation, rendering) publishing into S3: on s3rver over
 * HTTP for the full run, on the S3 model for the fault no emulator can inject.
 * Written against today's runSlot; the runner is being reshaped, so this wiring will follow it.
 */

const MiB = 1024 * 1024;
const SLOT_15 = '2024-01-15T06:00:00Z';
const SLOT_16 = '2024-01-16T06:00:00Z';

const PROJECT = `name: test
sources:
  events: data/events.parquet
  bulk: data/bulk.parquet
`;

/** ~11 MB of CSV in the 2024-01-14T06:00 → 2024-01-15T06:00 window (and as much in the next): multipart on upload. */
const BULK = `SELECT i::INTEGER AS id, 'row ' || i || ' ' || repeat('payload,"q" ', 6) AS label, (i % 1000)::DECIMAL(10,2) AS amount,
  TIMESTAMP '2024-01-14 06:00:00' + to_seconds(i % 172800) AS happened_at FROM range(240000) r(i)`;

/** Records what consumers were told. */
class CapturingNotifier implements Notifier {
  readonly target = 'capture';
  readonly events: DropEvent[] = [];
  async notify(event: DropEvent): Promise<NotifyOutcome> {
    this.events.push(event);
    return { target: this.target, status: 'sent', attempts: 1 };
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}

async function run(
  project: TempProject,
  feedName: string,
  slot: string,
  deps: { store: S3Store; signer: S3LinkSigner; consumers?: Notifier[]; now?: string },
): Promise<RunOutcome> {
  const loaded = loadProject(project.dir);
  const workDir = join(project.dir, 'work');
  mkdirSync(workDir, { recursive: true });
  const base = localDeps(loaded, { now: deps.now ?? '2024-01-16T07:00:00Z', store: deps.store });
  return runSlot(
    { feed: feedName, partner: null, slot: new Date(slot) },
    {
      ...base,
      signer: deps.signer,
      openEngine: () => DuckDbEngine.open({ store: deps.store, sources: loaded.sources, workDir, prefix: loaded.spec.prefix }),
      consumers: () => deps.consumers ?? [],
      operators: [],
    },
  );
}

describe('a full run into S3', () => {
  let project: TempProject;
  beforeAll(async () => {
    project = tempProject({
      'dropkit.yaml': PROJECT,
      'feeds/daily.yaml': dailyFeed('daily'),
      'feeds/daily.sql': DAILY_SQL,
      'feeds/bulk.yaml': dailyFeed('bulk'),
      'feeds/bulk.sql': DAILY_SQL.replace('FROM events', 'FROM bulk'),
    });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
    await writeParquet(join(project.dir, 'data/bulk.parquet'), BULK);
  });
  afterAll(() => project.cleanup());

  describe('on s3rver, downloaded through presigned links', () => {
    let server: RunningS3rver;
    beforeAll(async () => {
      server = await startS3rver(['drops']);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it.each(['daily', 'bulk'])('publishes the %s feed, and every file downloads over HTTP with the manifest bytes and SHA-256', async (feedName) => {
      const prefix = `run-${randomBytes(4).toString('hex')}`;
      const store = new S3Store({ bucket: 'drops', prefix, client: server.client(), partSize: 5 * MiB });
      const signer = new S3LinkSigner({ bucket: 'drops', prefix, clientConfig: server.clientConfig(), clock: fixedClock(new Date()) });
      const capture = new CapturingNotifier();
      const outcome = await run(project, feedName, SLOT_15, { store, signer, consumers: [capture] });
      expect(outcome.status).toBe('delivered');

      const manifest = await readJson<Manifest>(store, outcome.manifestKey!);
      expect(manifest.files.map((f) => f.format).sort()).toEqual(['csv', 'parquet']);
      expect(capture.events).toHaveLength(1);
      const event = capture.events[0] as DropDeliveredEvent;
      expect(event.type).toBe('drop.delivered');
      expect(event.files!.map((f) => f.path)).toEqual(manifest.files.map((f) => f.path));
      for (const file of event.files!) {
        const listed = manifest.files.find((f) => f.path === file.path)!;
        const body = await download(file.link.url);
        expect({ path: file.path, bytes: body.length, sha256: sha256(body) }).toEqual({ path: listed.path, bytes: listed.bytes, sha256: listed.sha256 });
      }
      const manifestBody = await download(event.manifest!.link.url);
      expect(manifestBody.equals((await store.get(outcome.manifestKey!))!.body)).toBe(true);

      if (feedName === 'daily') {
        const csv = manifest.files.find((f) => f.format === 'csv')!;
        expect((await download(event.files!.find((f) => f.path === csv.path)!.link.url)).toString()).toBe(
          'id,label,amount,happened_at\n2,b,2.20,2024-01-14T08:00:00Z\n3,c,3.30,2024-01-14T12:00:00Z\n4,d,4.40,2024-01-14T23:59:59Z\n',
        );
      } else {
        // Big enough that the CSV went up in parts over the wire.
        expect(manifest.files.find((f) => f.format === 'csv')!.bytes).toBeGreaterThan(10 * MiB);
      }
      const latest = await readJson<LatestPointer>(store, latestKey({ prefix: '', feed: feedName, partner: null }));
      expect(latest).toMatchObject({ runId: outcome.runId, slot: '20240115T060000Z' });
      expect(await listKeys(store, '_staging/')).toEqual([]);
    });
  });

  describe('on the S3 model, when a part upload fails', () => {
    it('aborts the upload, publishes no manifest and leaves latest.json on the previous drop', async () => {
      const model = new S3Model().createBucket('drops', { versioned: true });
      const client = offlineS3Client();
      const stub = mockS3(model, client);
      try {
        const store = new S3Store({ bucket: 'drops', client, partSize: 5 * MiB });
        const signer = new S3LinkSigner({
          bucket: 'drops',
          clientConfig: { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } },
        });
        const first = await run(project, 'bulk', SLOT_15, { store, signer });
        expect(first.status).toBe('delivered');
        const latestBefore = await store.get('bulk/latest.json');

        model.failUploadPart(2);
        const partsBefore = stub.commandCalls(UploadPartCommand).length;
        const second = await run(project, 'bulk', SLOT_16, { store, signer, now: '2024-01-17T07:00:00Z' });
        expect(second).toMatchObject({ status: 'failed', manifestKey: null, error: { step: 'render' } });
        expect(stub.commandCalls(UploadPartCommand).length).toBeGreaterThan(partsBefore);
        expect(stub).toHaveReceivedCommandTimes(AbortMultipartUploadCommand, 1);
        expect(model.openUploads()).toEqual([]);
        expect(await listKeys(store, 'bulk/slot=20240116T060000Z/')).toEqual([]);
        expect(await listKeys(store, '_staging/')).toEqual([]);
        expect((await store.get('bulk/latest.json'))?.body.equals(latestBefore!.body)).toBe(true);
        const record = await readJson<RunRecord>(store, `_runs/bulk/slot=20240116T060000Z/${second.runId}.json`);
        expect(record).toMatchObject({ status: 'failed', step: 'render', manifest: null });
      } finally {
        stub.restore();
      }
    });
  });
  describe('on the S3 model, in a versioned bucket', () => {
    it('records the version of every file and the engine time in the manifest', async () => {
      const model = new S3Model().createBucket('drops', { versioned: true });
      const client = offlineS3Client();
      const stub = mockS3(model, client);
      try {
        const store = new S3Store({ bucket: 'drops', client });
        const signer = new S3LinkSigner({
          bucket: 'drops',
          clientConfig: { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } },
        });
        const outcome = await run(project, 'daily', SLOT_15, { store, signer });
        expect(outcome.status).toBe('delivered');
        const manifest = await readJson<Manifest>(store, outcome.manifestKey!);
        expect(manifestProblems(manifest)).toEqual([]);
        const drop = outcome.manifestKey!.replace('manifest.json', '');
        for (const f of manifest.files) {
          const versions = model.versions('drops', drop + f.path);
          expect(f.versionId).toBe(versions[versions.length - 1].versionId);
        }
        expect(manifest.query.engineMillis).toEqual(expect.any(Number));
      } finally {
        stub.restore();
      }
    });
  });

  describe('on the S3 model, when SNS and EventBridge are down', () => {
    it('keeps the drop published and records each failed notice in the run record', async () => {
      const model = new S3Model().createBucket('drops');
      const client = offlineS3Client();
      const s3 = mockS3(model, client);
      const sns = mockClient(SNSClient);
      const eb = mockClient(EventBridgeClient);
      sns.on(PublishCommand).rejects(Object.assign(new Error('Service Unavailable'), { name: 'InternalErrorException' }));
      eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });
      try {
        const store = new S3Store({ bucket: 'drops', client });
        const signer = new S3LinkSigner({
          bucket: 'drops',
          clientConfig: { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } },
        });
        const offline = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };
        const consumers = [
          new SnsNotifier({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:drops', clientConfig: offline }),
          new EventBridgeNotifier({ clientConfig: offline, sleep: async () => undefined }),
        ];
        const outcome = await run(project, 'daily', SLOT_15, { store, signer, consumers });
        expect(outcome.status).toBe('delivered');
        expect(outcome.notifications.map((n) => [n.target, n.status])).toEqual([
          ['sns arn:aws:sns:eu-west-1:123456789012:drops', 'failed'],
          ['eventbridge default', 'failed'],
        ]);
        expect(await store.exists(outcome.manifestKey!)).toBe(true);
        expect(await readJson<LatestPointer>(store, 'daily/latest.json')).toMatchObject({ runId: outcome.runId });
        const record = await readJson<RunRecord>(store, `_runs/daily/slot=20240115T060000Z/${outcome.runId}.json`);
        expect(record.status).toBe('delivered');
        expect(record.notifications).toEqual([
          expect.objectContaining({ status: 'failed', detail: 'InternalErrorException: Service Unavailable' }),
          expect.objectContaining({ status: 'failed', detail: 'AccessDeniedException: not authorized' }),
        ]);
      } finally {
        eb.restore();
        sns.restore();
        s3.restore();
      }
    });
  });
});
