import { mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeNotifier } from '../../lib/adapters/eventbridge/eventbridge-notifier';
import { ConsoleNotifier } from '../../lib/adapters/local/console-notifier';
import { LocalLinkSigner } from '../../lib/adapters/local/local-link-signer';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { OutboxNotifier } from '../../lib/adapters/local/outbox-notifier';
import { S3LinkSigner } from '../../lib/adapters/s3/s3-link-signer';
import { S3Store } from '../../lib/adapters/s3/s3-store';
import { SnsNotifier } from '../../lib/adapters/sns/sns-notifier';
import { WebhookCircuitBreakers, WebhookNotifier } from '../../lib/adapters/webhook/webhook-notifier';
import { fixedClock, systemClock } from '../../lib/core/ports/clock';
import { startS3rver, RunningS3rver } from '../helpers/s3rver';
import { clockContract } from './clock.contract';
import { linkSignerContract } from './link-signer.contract';
import { notifierContract } from './notifier.contract';

function mkdirSyncQuiet(path: string): void {
  mkdirSync(path, { recursive: true });
}

const AWS = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };

notifierContract('OutboxNotifier', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dropkit-outbox-'));
  const file = join(dir, 'events.jsonl');
  return {
    notifier: new OutboxNotifier({ file }),
    received: async () =>
      (await readFile(file, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).id),
    // A folder where the outbox file should be: every append fails.
    breakTarget: () => void mkdirSyncQuiet(file),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

notifierContract('ConsoleNotifier', async () => {
  const lines: string[] = [];
  let broken = false;
  return {
    notifier: new ConsoleNotifier({
      write: (line) => {
        if (broken) throw new Error('stderr closed');
        lines.push(line);
      },
    }),
    received: async () => lines.flatMap((l) => (l.includes('run-contract') ? ['run-contract'] : [])),
    breakTarget: () => (broken = true),
    cleanup: async () => undefined,
  };
});

notifierContract('WebhookNotifier', async () => {
  const keys: string[] = [];
  let broken = false;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (broken) return void res.writeHead(503).end();
      keys.push(String(req.headers['idempotency-key']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    notifier: new WebhookNotifier({ url, secret: 's3cret', maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, breakers: new WebhookCircuitBreakers() }),
    received: async () => keys,
    breakTarget: () => (broken = true),
    cleanup: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});

notifierContract('SnsNotifier', async () => {
  const sns = mockClient(SNSClient);
  const ids: string[] = [];
  sns.on(PublishCommand).callsFake((input: { Message: string }) => {
    ids.push(JSON.parse(JSON.parse(input.Message).default).id);
    return { MessageId: `m-${ids.length}` };
  });
  return {
    notifier: new SnsNotifier({ topicArn: 'arn:aws:sns:eu-west-1:111122223333:daily', clientConfig: AWS }),
    received: async () => ids,
    breakTarget: () => void sns.on(PublishCommand).rejects(new Error('SNS is down')),
    cleanup: async () => void sns.restore(),
  };
});

notifierContract('EventBridgeNotifier', async () => {
  const eb = mockClient(EventBridgeClient);
  const ids: string[] = [];
  eb.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => {
    for (const e of input.Entries) ids.push(JSON.parse(e.Detail).id);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })) };
  });
  return {
    notifier: new EventBridgeNotifier({ clientConfig: AWS }),
    received: async () => ids,
    breakTarget: () => void eb.on(PutEventsCommand).rejects(new Error('EventBridge is down')),
    cleanup: async () => void eb.restore(),
  };
});

linkSignerContract('LocalLinkSigner', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dropkit-links-'));
  const store = new LocalStore(dir);
  return {
    signer: new LocalLinkSigner(store),
    put: async (key, body) => void (await store.put(key, body)),
    download: (url) => readFile(fileURLToPath(url)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('on s3rver', () => {
  let server: RunningS3rver;
  beforeAll(async () => {
    server = await startS3rver(['links']);
  }, 60_000);
  afterAll(async () => server?.stop());

  linkSignerContract('S3LinkSigner', async () => {
    const prefix = `p${Math.random().toString(36).slice(2, 8)}`;
    const store = new S3Store({ bucket: 'links', prefix, clientConfig: server.clientConfig() });
    return {
      signer: new S3LinkSigner({ bucket: 'links', prefix, clientConfig: server.clientConfig() }),
      put: async (key, body) => void (await store.put(key, body)),
      download: async (url) => {
        const res = await fetch(url);
        if (res.status !== 200) throw new Error(`GET answered ${res.status}`);
        return Buffer.from(await res.arrayBuffer());
      },
      cleanup: async () => undefined,
    };
  });
});

clockContract(
  'systemClock',
  () => systemClock,
  () => Date.now(),
  1000,
);
clockContract(
  'fixedClock',
  () => fixedClock('2024-01-15T06:00:00Z'),
  () => Date.parse('2024-01-15T06:00:00Z'),
  0,
);
