import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { acquireLease, LeaseOptions } from '../../lib/core/lease';
import { pidNamespaceId } from '../../lib/adapters/local/process-identity';

const KEY = '_leases/daily/slot=20240116T060000Z.json';
const NOW = new Date('2024-01-16T07:00:00Z');
const DEAD_HERE = 4242;

/** Issue 14 item 7: a hostname alone does not prove a pid is ours to judge (containers on host networking share it). */
describe('the dead-holder shortcut of a lease', () => {
  let dir: string;
  let store: LocalStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dropkit-lease-ns-'));
    store = new LocalStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Container A (pid 4242 in its own namespace) holds the slot; B, same hostname, does not see pid 4242. */
  async function holderThen(taker: Partial<LeaseOptions>, holder: Partial<LeaseOptions> = {}) {
    const base: LeaseOptions = { ttlSeconds: 3600, host: 'shared-host', isAlive: (pid) => pid !== DEAD_HERE };
    const held = await acquireLease(store, KEY, { attemptId: 'a', runId: 'r' }, NOW, {
      ...base,
      pid: DEAD_HERE,
      pidNamespace: 'boot-1/pid:4026531836',
      ...holder,
    });
    expect(held.acquired).toBe(true);
    return acquireLease(store, KEY, { attemptId: 'b', runId: 'r' }, new Date(NOW.getTime() + 60_000), { ...base, pid: 7, ...taker });
  }

  it('is not taken by another PID namespace on a host of the same name: it waits for the lease to expire', async () => {
    const other = await holderThen({ pidNamespace: 'boot-1/pid:4026532999' });
    expect(other).toMatchObject({ acquired: false, holder: { attemptId: 'a', pid: DEAD_HERE, pidNamespace: 'boot-1/pid:4026531836' } });
    // Nor after a reboot (same namespace inode, another boot id): pids start over.
    expect(await holderThen({ pidNamespace: 'boot-2/pid:4026531836' })).toMatchObject({ acquired: false });
  });

  it('is not taken when either side cannot tell its namespace (a lease from before, or no /proc)', async () => {
    expect(await holderThen({ pidNamespace: 'boot-1/pid:4026531836' }, { pidNamespace: null })).toMatchObject({ acquired: false });
    expect(await holderThen({ pidNamespace: null })).toMatchObject({ acquired: false });
  });

  it('frees at once a lease whose holder died in the same PID namespace of the same boot', async () => {
    expect(await holderThen({ pidNamespace: 'boot-1/pid:4026531836' })).toMatchObject({ acquired: true });
  });

  it('names the namespace by boot id and PID namespace inode, and cannot be told from malformed /proc', () => {
    if (process.platform !== 'linux') return expect(pidNamespaceId()).toMatch(/^boot@\d+$/);
    expect(pidNamespaceId((what) => (what === 'boot' ? '8ffd1a71-a807\n' : 'pid:[4026531836]'))).toBe('8ffd1a71-a807/pid:4026531836');
    expect(pidNamespaceId((what) => (what === 'boot' ? '8ffd1a71-a807\n' : 'mnt:[1]'))).toBeNull();
    expect(
      pidNamespaceId(() => {
        throw new Error('no /proc');
      }),
    ).toBeNull();
    expect(pidNamespaceId()).toMatch(/^[0-9a-f-]{36}\/pid:\d+$/);
  });
});
