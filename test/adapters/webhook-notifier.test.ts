import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../lib/core/errors';
import type { WebhookTarget } from '../../lib/core/feed/feed-schema';
import type { DropEvent } from '../../lib/core/ports/notifier';
import { WebhookCircuitBreakers, WebhookNotifier, webhookNotifierFromTarget } from '../../lib/adapters/webhook/webhook-notifier';
import { signWebhook, verifyWebhookSignature } from '../../lib/adapters/webhook/webhook-signature';

const SECRET = 'whsec_test_0123456789';

const event: DropEvent = {
  type: 'drop.delivered',
  id: 'evt-daily_orders-acme-20240115T060000Z-r1',
  feed: 'daily_orders',
  partner: 'acme',
  runId: 'daily_orders-acme-20240115T060000Z-r1',
  revision: 1,
  slot: '20240115T060000Z',
  occurredAt: '2024-01-15T06:04:12.000Z',
  manifest: {
    key: 'daily_orders/acme/20240115T060000Z/manifest.json',
    link: { url: 'https://s3.example/m?X-Amz-Signature=abc', expiresAt: '2024-01-15T07:04:12.000Z' },
  },
  files: [
    { path: 'part-0.csv', format: 'csv', rows: 1000, bytes: 52_000, sha256: 'a'.repeat(64), link: { url: 'https://s3.example/0', expiresAt: null } },
    { path: 'part-1.csv', format: 'csv', rows: 234, bytes: 12_000, sha256: 'b'.repeat(64), link: { url: 'https://s3.example/1', expiresAt: null } },
  ],
  sla: { expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T06:04:12.000Z', status: 'MET' },
  rowCount: 1234,
};

interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly verified: boolean;
}
type Reply = { status: number; headers?: Record<string, string> } | 'hang';

/** A receiver that behaves like a careful partner: it verifies every request before answering. */
let received: Received[] = [];
let receiverSecret = SECRET;
let reply: (n: number) => Reply = () => ({ status: 204 });
let server: http.Server;
let baseUrl: string;
let closedPortUrl: string;

const header = (r: Received, name: string): string | undefined => r.headers[name.toLowerCase()] as string | undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verified = verifyWebhookSignature({
        secret: receiverSecret,
        timestamp: req.headers['x-dropkit-timestamp'] as string | undefined,
        signature: req.headers['x-dropkit-signature'] as string | undefined,
        body,
      });
      received.push({ method: req.method, url: req.url, headers: req.headers, body, verified });
      if (!verified) return void res.writeHead(401).end('bad signature');
      const r = reply(received.length);
      if (r === 'hang') return; // never answer: the notifier's timeout must fire
      res.writeHead(r.status, r.headers).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A port that was just in use and is now closed: connecting to it is refused.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPortUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/hook`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received = [];
  receiverSecret = SECRET;
  reply = () => ({ status: 204 });
});

function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

function notifier(overrides: Partial<ConstructorParameters<typeof WebhookNotifier>[0]> = {}): WebhookNotifier {
  // Fresh circuit breakers: each test starts with an endpoint no earlier test has marked down.
  return new WebhookNotifier({
    url: `${baseUrl}/hook`,
    secret: SECRET,
    baseDelayMs: 2,
    maxDelayMs: 50,
    timeoutMs: 2000,
    sleep: recordingSleep().sleep,
    breakers: new WebhookCircuitBreakers(),
    ...overrides,
  });
}

describe('WebhookNotifier', () => {
  it('delivers on the first try with a valid signature, every header and the exact body', async () => {
    const outcome = await notifier({ url: `${baseUrl}/hook?token=s3cr3t` }).notify(event);

    expect(outcome).toEqual({ target: `webhook ${baseUrl}/hook`, status: 'sent', attempts: 1, detail: 'HTTP 204' });
    expect(received).toHaveLength(1);
    const [r] = received;
    expect(r.verified).toBe(true);
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/hook?token=s3cr3t');
    expect(r.body).toBe(JSON.stringify(event));
    expect(header(r, 'content-type')).toBe('application/json');
    expect(header(r, 'user-agent')).toBe('dropkit-webhook/1');
    expect(header(r, 'x-dropkit-event')).toBe('drop.delivered');
    expect(header(r, 'idempotency-key')).toBe(event.id);
    expect(header(r, 'x-dropkit-timestamp')).toMatch(/^\d{10}$/);
    expect(Math.abs(Number(header(r, 'x-dropkit-timestamp')) - Date.now() / 1000)).toBeLessThan(60);
    expect(header(r, 'x-dropkit-signature')).toBe(signWebhook(SECRET, header(r, 'x-dropkit-timestamp')!, r.body));
  });

  it('keeps the query string, which may hold tokens, out of the target description', () => {
    expect(notifier({ url: 'https://user:pw@partner.example/hooks/drop?token=abc#x' }).target).toBe('webhook https://partner.example/hooks/drop');
  });

  it('retries a 503 twice then succeeds on the third attempt with the same idempotency key', async () => {
    reply = (n) => (n <= 2 ? { status: 503 } : { status: 200 });
    let tick = 0;
    const start = Date.now();
    // Each attempt reads the clock: 10 s apart, so every attempt must carry its own timestamp and signature.
    const clock = () => new Date(start + 10_000 * tick++);
    const { delays, sleep } = recordingSleep();

    const outcome = await notifier({ clock, sleep }).notify(event);

    expect(outcome).toMatchObject({ status: 'sent', attempts: 3, detail: 'HTTP 200' });
    expect(received).toHaveLength(3);
    expect(received.every((r) => r.verified)).toBe(true);
    expect(new Set(received.map((r) => header(r, 'idempotency-key')))).toEqual(new Set([event.id]));
    expect(new Set(received.map((r) => header(r, 'x-dropkit-timestamp'))).size).toBe(3);
    expect(new Set(received.map((r) => header(r, 'x-dropkit-signature'))).size).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('waits as long as Retry-After says on a 429, and gives up when it asks for more than maxRetryAfterMs', async () => {
    reply = (n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : n === 2 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 200 };
    const { delays, sleep } = recordingSleep();

    const outcome = await notifier({ sleep, maxRetryAfterMs: 5000 }).notify(event);

    expect(outcome).toMatchObject({
      status: 'failed',
      attempts: 2,
      detail: 'HTTP 429; the receiver asked to retry after 120 s, longer than the 5 s a run waits (maxRetryAfterMs)',
    });
    expect(delays).toEqual([2000]);
  });

  it('does not retry a 400 and reports the failure', async () => {
    reply = () => ({ status: 400 });
    const { delays, sleep } = recordingSleep();

    const outcome = await notifier({ sleep }).notify(event);

    expect(outcome).toEqual({ target: `webhook ${baseUrl}/hook`, status: 'failed', attempts: 1, detail: 'HTTP 400' });
    expect(received).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('does not follow a redirect, and does not retry it', async () => {
    reply = () => ({ status: 302, headers: { location: `${baseUrl}/elsewhere` } });

    const outcome = await notifier().notify(event);

    expect(outcome).toMatchObject({ status: 'failed', attempts: 1 });
    expect(outcome.detail).toMatch(/302.*not followed/);
    expect(received.map((r) => r.url)).toEqual(['/hook']);
  });

  it('retries a refused connection up to maxAttempts with growing, capped jittered backoff, then fails', async () => {
    const { delays, sleep } = recordingSleep();

    const outcome = await notifier({ url: closedPortUrl, maxAttempts: 5, baseDelayMs: 4, maxDelayMs: 10, random: () => 0.5, sleep }).notify(event);

    expect(outcome).toMatchObject({ status: 'failed', attempts: 5 });
    expect(outcome.detail).toMatch(/ECONNREFUSED/);
    // Half of min(10, 4 * 2^n): 2, 4, then the cap of 10 halves to 5.
    expect(delays).toEqual([2, 4, 5, 5]);
  });

  it('retries after a timeout when the receiver never answers', async () => {
    reply = () => 'hang';

    const outcome = await notifier({ timeoutMs: 50, maxAttempts: 2 }).notify(event);

    expect(outcome).toMatchObject({ status: 'failed', attempts: 2, detail: 'timed out after 50 ms' });
    expect(received).toHaveLength(2);
  });

  it('reports failed without retrying when the receiver rejects the signature made with another secret', async () => {
    receiverSecret = 'a-different-secret';

    const outcome = await notifier().notify(event);

    expect(outcome).toMatchObject({ status: 'failed', attempts: 1, detail: 'HTTP 401' });
    expect(received).toHaveLength(1);
    expect(received[0].verified).toBe(false);
  });

  it('never throws, even when the injected sleep rejects', async () => {
    reply = () => ({ status: 500 });
    const sleep = async () => {
      throw new Error('sleep broke');
    };

    await expect(notifier({ sleep }).notify(event)).resolves.toMatchObject({ status: 'failed', attempts: 1, detail: 'sleep broke' });
  });
});

describe('verifyWebhookSignature', () => {
  const now = new Date('2024-01-15T06:05:00Z');
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const body = JSON.stringify(event);
  const signature = signWebhook(SECRET, timestamp, body);

  it('accepts a fresh, untouched request', () => {
    expect(verifyWebhookSignature({ secret: SECRET, timestamp, body, signature, now })).toBe(true);
  });

  it('rejects a tampered body', () => {
    expect(verifyWebhookSignature({ secret: SECRET, timestamp, body: body.replace('1234', '9999'), signature, now })).toBe(false);
  });

  it('rejects a timestamp older than the tolerance, even with a valid signature', () => {
    const later = new Date(now.getTime() + 301_000);
    expect(verifyWebhookSignature({ secret: SECRET, timestamp, body, signature, now: later })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, timestamp, body, signature, now: later, toleranceSeconds: 600 })).toBe(true);
  });

  it('rejects a timestamp swapped for a fresh one, since the timestamp is signed too', () => {
    expect(verifyWebhookSignature({ secret: SECRET, timestamp: String(Number(timestamp) + 1), body, signature, now })).toBe(false);
  });

  it('rejects missing, truncated and malformed headers without throwing', () => {
    expect(verifyWebhookSignature({ secret: SECRET, timestamp: undefined, body, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, timestamp, body, signature: undefined, now })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, timestamp, body, signature: signature.slice(0, -2), now })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, timestamp: `${timestamp}.5`, body, signature, now })).toBe(false);
  });

  it('formats the signature as v1= and 64 hex digits', () => {
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
  });
});

describe('webhookNotifierFromTarget', () => {
  const target: WebhookTarget = { type: 'webhook', url: 'https://partner.example/hook?token=abc', secretEnv: 'ACME_WEBHOOK_SECRET', maxAttempts: 3 };

  it('throws a ConfigError naming the variable and telling to export it when the secret is unset', () => {
    const attempt = () => webhookNotifierFromTarget(target, {}, 'feeds/daily_orders.yaml');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/ACME_WEBHOOK_SECRET/);
    try {
      attempt();
    } catch (err) {
      const problem = (err as ConfigError).problems[0];
      expect(problem.file).toBe('feeds/daily_orders.yaml');
      expect(problem.message).toMatch(/ACME_WEBHOOK_SECRET.*not set/);
      expect(problem.message).not.toMatch(/token=abc/);
      expect(problem.fix).toMatch(/^export ACME_WEBHOOK_SECRET=/);
    }
  });

  it('treats an empty secret like a missing one', () => {
    expect(() => webhookNotifierFromTarget(target, { ACME_WEBHOOK_SECRET: '' })).toThrow(/ACME_WEBHOOK_SECRET.*empty/);
  });

  it('builds a notifier for the target when the secret is set', () => {
    expect(webhookNotifierFromTarget(target, { ACME_WEBHOOK_SECRET: 'x' }).target).toBe('webhook https://partner.example/hook');
  });
});
