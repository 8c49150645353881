import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DropEvent } from '../../lib/core/ports/notifier';
import { WebhookCircuitBreakers, WebhookNotifier, WebhookNotifierOptions } from '../../lib/adapters/webhook/webhook-notifier';

const SECRET = 'whsec_budget';
const event = (runId: string): DropEvent => ({
  type: 'drop.delivered',
  id: runId,
  feed: 'daily',
  partner: null,
  runId,
  revision: 1,
  slot: '20240115T060000Z',
  occurredAt: '2024-01-15T06:04:12.000Z',
  rowCount: 3,
});

type Reply = { status: number; headers?: Record<string, string> } | 'hang';

describe('a webhook cannot hold runs for long', () => {
  let server: http.Server;
  let base: string;
  let reply: (path: string, n: number) => Reply;
  let hits: { path: string; key: string; body: string }[];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        hits.push({ path: req.url!, key: String(req.headers['idempotency-key']), body });
        const r = reply(req.url!, hits.filter((h) => h.path === req.url).length);
        if (r === 'hang') return;
        res.writeHead(r.status, r.headers).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    hits = [];
    reply = () => ({ status: 204 });
  });

  const notifier = (path: string, options: Partial<WebhookNotifierOptions> = {}) =>
    new WebhookNotifier({ url: `${base}${path}`, secret: SECRET, baseDelayMs: 1, maxDelayMs: 5, breakers: new WebhookCircuitBreakers(), ...options });

  it('stops retrying a receiver that never answers when the total budget is spent, not after every attempt has timed out', async () => {
    reply = () => 'hang';
    const outcome = await notifier('/hang', { timeoutMs: 200, maxAttempts: 10, totalBudgetMs: 500 }).notify(event('r1'));
    expect(outcome.status).toBe('failed');
    expect(outcome.attempts).toBeLessThanOrEqual(3);
    expect(outcome.detail).toMatch(/timed out after \d+ ms; gave up: .*0\.5 s budget for this notice/);
  });

  it('gives up at once when Retry-After asks for longer than the cap, instead of waiting', async () => {
    reply = () => ({ status: 429, headers: { 'retry-after': '3600' } });
    const waits: number[] = [];
    const outcome = await notifier('/busy', { sleep: async (ms) => void waits.push(ms) }).notify(event('r1'));
    expect(outcome).toMatchObject({ status: 'failed', attempts: 1 });
    expect(outcome.detail).toBe('HTTP 429; the receiver asked to retry after 3600 s, longer than the 30 s a run waits (maxRetryAfterMs)');
    expect(waits).toEqual([]);
  });

  it('honours a Retry-After within the cap in full, even above the backoff cap', async () => {
    reply = (_, n) => (n === 1 ? { status: 503, headers: { 'retry-after': '2' } } : { status: 200 });
    const waits: number[] = [];
    const outcome = await notifier('/soon', { maxDelayMs: 5, sleep: async (ms) => void waits.push(ms) }).notify(event('r1'));
    expect(outcome).toMatchObject({ status: 'sent', attempts: 2 });
    expect(waits).toEqual([2000]);
  });

  it('does not wait for a Retry-After that would pass the total budget', async () => {
    reply = () => ({ status: 503, headers: { 'retry-after': '20' } });
    const waits: number[] = [];
    const outcome = await notifier('/later', { totalBudgetMs: 10_000, sleep: async (ms) => void waits.push(ms) }).notify(event('r1'));
    expect(outcome).toMatchObject({ status: 'failed', attempts: 1 });
    expect(outcome.detail).toMatch(/^HTTP 503; gave up: another attempt would pass the 10 s budget for this notice/);
    expect(waits).toEqual([]);
  });

  it('opens the circuit after consecutive failed notices: later notices to that endpoint in the process are failed at once, without a request', async () => {
    reply = () => 'hang';
    const breakers = new WebhookCircuitBreakers({ failuresToOpen: 2 });
    const options = { timeoutMs: 100, maxAttempts: 1, breakers };

    const first = await notifier('/dead', options).notify(event('r1'));
    const second = await notifier('/dead', options).notify(event('r2'));
    const third = await notifier('/dead', options).notify(event('r3'));
    const fourth = await notifier('/dead', options).notify(event('r4'));

    expect([first.status, second.status]).toEqual(['failed', 'failed']);
    expect(third).toEqual({ target: `webhook ${base}/dead`, status: 'failed', attempts: 0, detail: 'endpoint unavailable; skipped after 2 failures' });
    expect(fourth).toMatchObject({ status: 'failed', attempts: 0 });
    expect(hits.map((h) => h.key)).toEqual(['r1', 'r2']);
  });

  it('keeps one circuit per endpoint: a dead endpoint does not stop notices to a live one', async () => {
    reply = (path) => (path === '/dead' ? { status: 503 } : { status: 204 });
    const breakers = new WebhookCircuitBreakers({ failuresToOpen: 1 });
    await notifier('/dead', { maxAttempts: 1, breakers }).notify(event('r1'));
    expect(await notifier('/dead', { maxAttempts: 1, breakers }).notify(event('r2'))).toMatchObject({ attempts: 0 });
    expect(await notifier('/live', { maxAttempts: 1, breakers }).notify(event('r2'))).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('counts only consecutive failures: a delivered notice closes the count again', async () => {
    let down = true;
    reply = () => (down ? { status: 503 } : { status: 204 });
    const breakers = new WebhookCircuitBreakers({ failuresToOpen: 2 });
    const send = (id: string) => notifier('/flaky', { maxAttempts: 1, breakers }).notify(event(id));
    await send('r1');
    down = false;
    await send('r2');
    down = true;
    expect(await send('r3')).toMatchObject({ attempts: 1 }); // one failure since the last success: still attempted
  });

  it('does not count an answer that refuses the notice (4xx) as the endpoint being down', async () => {
    reply = () => ({ status: 401 });
    const breakers = new WebhookCircuitBreakers({ failuresToOpen: 1 });
    await notifier('/strict', { breakers }).notify(event('r1'));
    expect(await notifier('/strict', { breakers }).notify(event('r2'))).toMatchObject({ status: 'failed', attempts: 1, detail: 'HTTP 401' });
  });

  it('tries an open circuit again once its cool-down has passed', async () => {
    let now = 0;
    reply = () => ({ status: 503 });
    const breakers = new WebhookCircuitBreakers({ failuresToOpen: 1, cooldownMs: 60_000, now: () => now });
    const send = (id: string) => notifier('/resting', { maxAttempts: 1, breakers }).notify(event(id));
    await send('r1');
    expect(await send('r2')).toMatchObject({ attempts: 0 });
    now = 60_000;
    reply = () => ({ status: 204 });
    expect(await send('r3')).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('shares one set of circuits across the notifiers of a process by default', async () => {
    reply = () => ({ status: 503 });
    const send = (id: string) => new WebhookNotifier({ url: `${base}/shared-dead`, secret: SECRET, maxAttempts: 1 }).notify(event(id));
    await send('r1');
    await send('r2');
    expect(await send('r3')).toMatchObject({
      status: 'failed',
      attempts: 0,
      detail: expect.stringMatching(/^endpoint unavailable; skipped after \d+ failures$/),
    });
  });

  it('sends the same Idempotency-Key and body when a failed notice is sent again later', async () => {
    reply = (_, n) => (n === 1 ? { status: 503 } : { status: 204 });
    const first = await notifier('/again', { maxAttempts: 1 }).notify(event('r1'));
    const again = await notifier('/again', { maxAttempts: 1 }).notify(event('r1'));
    expect([first.status, again.status]).toEqual(['failed', 'sent']);
    expect(hits).toHaveLength(2);
    expect(hits[1].key).toBe(hits[0].key);
    expect(hits[1].body).toBe(hits[0].body);
  });
});
