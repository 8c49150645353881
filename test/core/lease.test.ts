import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { acquireLease, readLease, releaseLease, renewLease } from '../../lib/core/lease';

describe('the slot lease', () => {
  let dir: string;
  let store: LocalStore;
  const now = new Date('2024-01-15T07:00:00Z');
  const options = { ttlSeconds: 3600 };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dropkit-lease-'));
    store = new LocalStore(dir);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('is released by its attempt even after a renewal changed its etag', async () => {
    const got = await acquireLease(store, 'l.json', { attemptId: 'a1', runId: 'r' }, now, options);
    if (!got.acquired) throw new Error('not acquired');
    await renewLease(store, got.held, new Date(now.getTime() + 60_000), 3600); // as publish's fence does, a minute on: a new etag
    await releaseLease(store, got.held); // with the etag from before the renewal
    expect((await readLease(store, 'l.json'))?.released).toBe(true);
    expect((await acquireLease(store, 'l.json', { attemptId: 'a2', runId: 'r' }, now, options)).acquired).toBe(true);
  });

  it('is never released by another attempt', async () => {
    const first = await acquireLease(store, 'l.json', { attemptId: 'a1', runId: 'r' }, now, options);
    if (!first.acquired) throw new Error('not acquired');
    await releaseLease(store, { ...first.held, attemptId: 'a2' });
    expect((await readLease(store, 'l.json'))?.released).toBe(false);
    expect(await acquireLease(store, 'l.json', { attemptId: 'a3', runId: 'r' }, now, options)).toMatchObject({ acquired: false, holder: { attemptId: 'a1' } });
  });

  it('frees the slot once expired, and a stalled holder is fenced off at its next renewal', async () => {
    const first = await acquireLease(store, 'l.json', { attemptId: 'a1', runId: 'r' }, now, options);
    if (!first.acquired) throw new Error('not acquired');
    const later = new Date(now.getTime() + 3601_000);
    expect((await acquireLease(store, 'l.json', { attemptId: 'a2', runId: 'r' }, later, options)).acquired).toBe(true);
    await expect(renewLease(store, first.held, later, 3600)).rejects.toMatchObject({ name: 'SlotBusyError' });
  });
});
