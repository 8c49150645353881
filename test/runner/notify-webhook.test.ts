import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { verifyWebhookSignature } from '../../lib/adapters/webhook/webhook-signature';
import type { DropDeliveredEvent } from '../../lib/core/ports/notifier';
import { runFeed } from '../helpers/local-run';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

const SECRET = 'test-secret-for-the-receiver';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  valid: boolean;
}

describe('a delivered run notifies a signed webhook', () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];
  let p: TempProject;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const valid = verifyWebhookSignature({
          secret: SECRET,
          timestamp: String(req.headers['x-dropkit-timestamp']),
          body,
          signature: String(req.headers['x-dropkit-signature']),
        });
        received.push({ headers: req.headers, body, valid });
        res.writeHead(valid ? 204 : 401).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/dropkit`;
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    process.env.TEST_DROPKIT_HOOK_SECRET = SECRET;
  });
  afterAll(async () => {
    delete process.env.TEST_DROPKIT_HOOK_SECRET;
    p.cleanup();
    await new Promise((r) => server.close(r));
  });

  it('sends one signed event, keyed by the run id, with links to the manifest and every file', async () => {
    p.write('feeds/daily.yaml', dailyFeed() + `notify:\n  - type: webhook\n    url: ${url}\n    secretEnv: TEST_DROPKIT_HOOK_SECRET\n`);
    const { outcome } = await runFeed(p.dir, 'daily', { slot: '2024-01-15T06:00:00Z', now: '2024-01-15T06:20:00Z' });
    expect(outcome.status).toBe('delivered');
    expect(outcome.notifications).toEqual(expect.arrayContaining([expect.objectContaining({ target: `webhook ${url}`, status: 'sent', attempts: 1 })]));
    expect(received).toHaveLength(1);
    const [hit] = received;
    expect(hit.valid).toBe(true);
    expect(hit.headers['idempotency-key']).toBe(outcome.runId);
    expect(hit.headers['x-dropkit-event']).toBe('drop.delivered');
    const event = JSON.parse(hit.body) as DropDeliveredEvent;
    expect(event).toMatchObject({ type: 'drop.delivered', id: outcome.runId, feed: 'daily', slot: '20240115T060000Z', rowCount: 3, sla: { status: 'MET' } });
    const manifest = JSON.parse(readFileSync(fileURLToPath(event.manifest!.link.url), 'utf8'));
    expect(manifest.runId).toBe(outcome.runId);
    expect(event.files!.map((f) => f.path)).toEqual(['part-00000.csv', 'part-00000.parquet']);
    for (const f of event.files!) expect(readFileSync(fileURLToPath(f.link.url)).length).toBe(f.bytes);
  });
});
