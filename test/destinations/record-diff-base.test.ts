import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbDestinationEngine } from '../../lib/adapters/duckdb/duckdb-destination';
import { HttpApiDestination } from '../../lib/adapters/http/http-api-destination';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { deliverDestinations } from '../../lib/core/destinations/deliver';
import type { DeliveryRef } from '../../lib/core/destinations/delivery-keys';
import type { SyncMode } from '../../lib/core/ports/destination';
import { fixedClock } from '../../lib/core/ports/clock';
import { FakeApi, type Fault } from './fake-api';
import { publishDrop } from './drops';

/** Ten contacts; `changed` gets another e-mail address. */
const contacts = (changed = 0) =>
  `SELECT i AS id, CASE WHEN i = ${changed} THEN 'new' || i || '@example.com' ELSE 'user' || i || '@example.com' END AS email FROM range(1, 11) t(i)`;

describe('a reverse-ETL diff sync after rows were rejected', () => {
  let dir: string;
  let store: LocalStore;
  let engine: DuckDbDestinationEngine;
  let api: FakeApi;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dropkit-base-'));
    store = new LocalStore(join(dir, 'store'));
    engine = await DuckDbDestinationEngine.open({ store, workDir: dir, threads: 1 });
    api = new FakeApi('tok', 'contact_id');
    await api.start();
  });
  afterEach(async () => {
    await api.stop();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  const sync = async (ref: DeliveryRef, faults: Fault[], mode: SyncMode = 'upsert') => {
    api.faults = faults;
    const destination = new HttpApiDestination({
      name: 'crm',
      url: api.url,
      token: 'tok',
      mapping: { id: 'contact_id', email: 'email' },
      primaryKey: ['id'],
      batchSize: 4,
      requestsPerSecond: 1000,
      sleep: async () => undefined,
    });
    const [record] = await deliverDestinations(ref, {
      store,
      clock: fixedClock('2024-01-16T07:00:00Z'),
      destinations: [{ destination, mode, primaryKey: ['id'], takes: 'rows' }],
      rows: engine,
      changes: engine,
    });
    return record;
  };

  it('sends the rejected rows again with the next drop, and moves the base only after a complete sync', async () => {
    const r1 = await publishDrop(store, 'r1', contacts(), '20240115T060000Z');
    const first = await sync(r1, [{ kind: 'reject', indices: [1], message: 'email bounced' }]);
    expect(first).toMatchObject({ status: 'partial', rowsSent: 9, rowsRejected: 1, base: null });
    expect(api.records.has('2')).toBe(false);

    // The next drop changes contact 5, which r1 inserted: a diff against r1 would send only that
    // update, and contact 2 would never arrive.
    const r2 = await publishDrop(store, 'r2', contacts(5), '20240116T060000Z');
    const second = await sync(r2, []);
    expect(second).toMatchObject({ status: 'delivered', rowsRejected: 0, base: null, carriesRejectedOf: 'r1' });
    expect(api.records.get('2')).toEqual({ contact_id: 2, email: 'user2@example.com' });
    // Sent as upserts: the receiver already had contact 5 from r1, and must take its new address.
    expect(api.records.get('5')).toEqual({ contact_id: 5, email: 'new5@example.com' });
    expect(new Set(api.log.filter((l) => l.key.startsWith('r2:')).map((l) => l.op))).toEqual(new Set(['upsert']));

    // r2 arrived whole: it is the base now, and an unchanged drop sends nothing.
    const r3 = await publishDrop(store, 'r3', contacts(5), '20240117T060000Z');
    const third = await sync(r3, []);
    expect(third).toMatchObject({ status: 'delivered', rowsSent: 0, base: r2.manifestKey });
    expect(third.carriesRejectedOf).toBeUndefined();
  });

  it('keeps insert-only syncs as inserts when it carries rejected rows', async () => {
    const r1 = await publishDrop(store, 'r1', contacts(), '20240115T060000Z');
    await sync(r1, [{ kind: 'reject', indices: [1], message: 'email bounced' }], 'insert-only');
    const r2 = await publishDrop(store, 'r2', contacts(5), '20240116T060000Z');
    const second = await sync(r2, [], 'insert-only');
    expect(second).toMatchObject({ status: 'delivered', carriesRejectedOf: 'r1' });
    expect(api.records.get('2')).toEqual({ contact_id: 2, email: 'user2@example.com' });
    // Insert-only never changes a row the receiver has.
    expect(api.records.get('5')).toEqual({ contact_id: 5, email: 'user5@example.com' });
  });
});
