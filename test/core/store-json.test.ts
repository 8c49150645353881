import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { acquireLease } from '../../lib/core/lease';
import { latestPointerSchema, manifestSchema } from '../../lib/core/manifest-schema';
import { readStoreJson, StoreJsonError } from '../../lib/core/store-json';
import { validManifest } from '../helpers/manifest-fixture';

describe('readStoreJson', () => {
  let dir: string;
  let store: LocalStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dropkit-store-json-'));
    store = new LocalStore(dir);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const sha256 = 'a'.repeat(64);
  const manifest = validManifest([{ path: 'part-00000.csv', format: 'csv', compression: 'none', rows: 1, bytes: 10, sha256 }]);

  it('returns the object as stored (same keys, same order) when it matches its schema, and undefined when absent', async () => {
    const { toolkitVersion, ...rest } = manifest;
    const reordered = { toolkitVersion, ...rest };
    await store.put('daily/m.json', JSON.stringify(reordered));
    const read = await readStoreJson(store, 'daily/m.json', manifestSchema);
    expect(JSON.stringify(read)).toBe(JSON.stringify(reordered));
    expect(await readStoreJson(store, 'daily/none.json', manifestSchema)).toBeUndefined();
  });

  it('names the key, each bad field, its value and the fix', async () => {
    await store.put('daily/latest.json', JSON.stringify({ manifestVersion: 1, feed: 'daily', partner: null, runId: 'r1', revision: 0, slot: 's' }));
    const read = readStoreJson(store, 'daily/latest.json', latestPointerSchema);
    await expect(read).rejects.toThrow(StoreJsonError);
    await expect(read).rejects.toThrow(/^daily\/latest\.json in the store is not a valid dropkit object: /);
    await expect(read).rejects.toThrow(/revision: Too small: expected number to be >=1 \(got 0\)/);
    await expect(read).rejects.toThrow(/manifestSha256: required, missing \(expected string\)/);
    await expect(read).rejects.toThrow(/Restore it from the bucket version/);
  });

  it('names the path inside arrays and refuses text that is not JSON', async () => {
    await store.put('daily/m.json', JSON.stringify({ ...manifest, files: [{ ...manifest.files[0], sha256: 'x' }] }));
    await expect(readStoreJson(store, 'daily/m.json', manifestSchema)).rejects.toThrow(/files\[0\]\.sha256: .* \(got "x"\)/);
    await store.put('daily/cut.json', '{"manifestVersion": 1, "fe');
    await expect(readStoreJson(store, 'daily/cut.json', manifestSchema)).rejects.toThrow(
      /daily\/cut\.json in the store is not a valid dropkit object: not JSON/,
    );
  });

  it('is what the steps read with: a hand-edited lease fails naming its key and field, not later as a TypeError', async () => {
    await store.put('_leases/daily/slot=1.json', JSON.stringify({ attemptId: 'a0', runId: 'r', acquiredAt: 'x', expiresAt: 'y', host: null, pid: null }));
    await expect(acquireLease(store, '_leases/daily/slot=1.json', { attemptId: 'a1', runId: 'r' }, new Date(0), { ttlSeconds: 60 })).rejects.toThrow(
      /_leases\/daily\/slot=1\.json in the store .*released: required, missing/,
    );
  });
});
