import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { DuckDbDestinationEngine } from '../../lib/adapters/duckdb/duckdb-destination';
import { HttpApiDestination, retryAfterMs, type HttpApiDestinationOptions } from '../../lib/adapters/http/http-api-destination';
import { deliverDestinations } from '../../lib/core/destinations/deliver';
import { fixedClock } from '../../lib/core/ports/clock';
import { FakeApi, type Fault } from './fake-api';
import { publishDrop } from './drops';

const ROWS = `SELECT i AS id, 'user' || i || '@example.com' AS email, i % 3 = 0 AS vip, TIMESTAMP '2024-01-15 06:00:00' + INTERVAL (i) MINUTE AS seen_at FROM range(1, 11) t(i)`;

describe('HttpApiDestination', () => {
  let dir: string;
  let store: LocalStore;
  let engine: DuckDbDestinationEngine;
  let api: FakeApi;
  let sleeps: number[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dropkit-api-'));
    store = new LocalStore(join(dir, 'store'));
    engine = await DuckDbDestinationEngine.open({ store, workDir: dir, threads: 1 });
    api = new FakeApi('tok', 'contact_id');
    await api.start();
    sleeps = [];
  });
  afterEach(async () => {
    await api.stop();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  const destination = (over: Partial<HttpApiDestinationOptions> = {}) =>
    new HttpApiDestination({
      name: 'crm',
      url: api.url,
      token: 'tok',
      mapping: { id: 'contact_id', email: 'email', vip: 'is_vip', seen_at: 'last_seen' },
      primaryKey: ['id'],
      batchSize: 4,
      maxAttempts: 3,
      requestsPerSecond: 1000,
      timeoutMs: 300,
      sleep: async (ms) => void sleeps.push(ms),
      now: () => 0,
      ...over,
    });

  async function run(faults: Fault[], over: Partial<HttpApiDestinationOptions> = {}) {
    api.faults = faults;
    const ref = await publishDrop(store, 'r1', ROWS);
    const [record] = await deliverDestinations(ref, {
      store,
      clock: fixedClock('2024-01-15T07:00:00Z'),
      destinations: [{ destination: destination(over), mode: 'full', primaryKey: ['id'], takes: 'rows' }],
      rows: engine,
    });
    return { record, ref };
  }

  it('sends mapped fields only, typed as JSON, with an idempotency key per batch', async () => {
    const { record } = await run([]);
    expect(record).toMatchObject({ status: 'delivered', rowsSent: 10, rowsRejected: 0, units: ['upsert:0', 'upsert:1', 'upsert:2'] });
    expect(api.records.get('3')).toEqual({ contact_id: 3, email: 'user3@example.com', is_vip: true, last_seen: '2024-01-15T06:03:00.000000Z' });
    expect(api.log.map((l) => l.key)).toEqual(['r1:crm:upsert:0', 'r1:crm:upsert:1', 'r1:crm:upsert:2']);
  });

  it('waits as Retry-After says on 429, then sends the batch again with the same key', async () => {
    const { record } = await run([{ kind: '429', retryAfter: '7' }]);
    expect(record.status).toBe('delivered');
    expect(sleeps).toContain(7000);
    expect(api.log.slice(0, 2).map((l) => [l.key, l.status])).toEqual([
      ['r1:crm:upsert:0', 429],
      ['r1:crm:upsert:0', 200],
    ]);
  });

  it('stops when Retry-After asks for longer than allowed, and the next try resumes there', async () => {
    const { record, ref } = await run([{ kind: 'ok' }, { kind: '429', retryAfter: '3600' }], { maxRetryAfterMs: 60_000 });
    expect(record.status).toBe('failed');
    expect(record.errors[0].message).toMatch(/Retry-After/);
    expect(record.units).toEqual(['upsert:0']);
    const [again] = await deliverDestinations(ref, {
      store,
      clock: fixedClock('2024-01-15T08:00:00Z'),
      destinations: [{ destination: destination(), mode: 'full', primaryKey: ['id'], takes: 'rows' }],
      rows: engine,
    });
    expect(again.status).toBe('delivered');
    expect(api.applied).toEqual(['r1:crm:upsert:0', 'r1:crm:upsert:1', 'r1:crm:upsert:2']);
  });

  it('retries 500s and timeouts with backoff', async () => {
    const { record } = await run([{ kind: '500' }, { kind: 'timeout' }]);
    expect(record.status).toBe('delivered');
    expect(api.log.slice(0, 3).map((l) => l.status)).toEqual([500, 0, 200]);
    expect(sleeps.filter((ms) => ms >= 100)).toEqual([500, 1000]);
    expect(api.records.size).toBe(10);
  });

  it('keeps rows the API rejects in a dead-letter file with the run, and reports the sync as partial', async () => {
    const { record } = await run([{ kind: 'ok' }, { kind: 'reject', indices: [1], message: 'email bounced' }, { kind: '400' }]);
    expect(record).toMatchObject({ status: 'partial', rowsSent: 7, rowsRejected: 3 });
    const lines: { batch: number; row: { contact_id: number }; error: string }[] = [];
    for await (const o of store.list(record.deadLetter!))
      lines.push(
        ...(await store.get(o.key))!.body
          .toString('utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      );
    expect(lines.map((l) => [l.batch, l.row.contact_id, l.error.slice(0, 12)])).toEqual([
      [1, 6, 'email bounce'],
      [2, 9, 'HTTP 400: {"'],
      [2, 10, 'HTTP 400: {"'],
    ]);
  });

  it('fails the sync on 401 without dead-lettering rows, naming the token setting', async () => {
    const { record } = await run([], { token: 'wrong' });
    expect(record.status).toBe('failed');
    expect(record.errors[0].message).toMatch(/HTTP 401.*tokenEnv/);
    expect(record.rowsRejected).toBe(0);
  });

  it('spaces requests to the rate limit', async () => {
    let t = 0;
    await run([], { requestsPerSecond: 2, now: () => t, sleep: async (ms) => void (sleeps.push(ms), (t += ms)) });
    expect(sleeps).toEqual([500, 500]);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    const now = new Date('2024-01-15T07:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Mon, 15 Jan 2024 07:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('HttpApiDestination over a drop split into parts', () => {
  it('numbers batches across the parts, so no part is taken for sent', async () => {
    const api = new FakeApi('tok', 'id');
    await api.start();
    const batches: string[][] = [];
    const rows = {
      async *rows(keys: readonly string[]) {
        batches.push([...keys]);
        for (const key of keys) yield [{ id: key === 'a' ? 1 : 2 }];
      },
    };
    const done = new Set<string>();
    const destination = new HttpApiDestination({ name: 'crm', url: api.url, token: 'tok', mapping: { id: 'id' }, batchSize: 1 });
    const file = (key: string) => ({ path: key, key, bytes: 1, rows: 1, op: 'upsert' as const });
    await destination.deliver({ files: [file('a'), file('b')], rows, runId: 'r1' } as never, { done, markDone: async (u) => void done.add(u) });
    expect([...done]).toEqual(['upsert:0', 'upsert:1']);
    expect(api.records.size).toBe(2);
    expect(batches).toEqual([['a', 'b']]);
    await api.stop();
  });
});
