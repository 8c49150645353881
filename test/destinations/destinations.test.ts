import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { LocalFolderSink } from '../../lib/adapters/local/local-destination';
import { HttpApiDestination } from '../../lib/adapters/http/http-api-destination';
import { destinationContract, observedFileDestination, type DestinationFixture } from './destination.contract';
import { FakeApi } from './fake-api';

async function filesUnder(root: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(root, p).split('\\').join('/'), await readFile(p));
    }
  };
  await walk(root);
  return out;
}

destinationContract('local folder', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dropkit-partner-'));
  const log: string[] = [];
  return {
    takes: 'files',
    destination: async (name, { failOnUnit }) => observedFileDestination(name, new LocalFolderSink(root), log, failOnUnit),
    holds: () => filesUnder(root),
    arrivals: () => log,
    close: () => rm(root, { recursive: true, force: true }),
  } satisfies DestinationFixture;
});

destinationContract('HTTP API on loopback', async () => {
  const api = new FakeApi('s3cret', 'id');
  await api.start();
  return {
    takes: 'rows',
    destination: async (name, { failOnUnit, primaryKey }) => {
      // Batch n fails on every attempt: the sync stops there and resumes from it.
      if (failOnUnit) api.faults = [...Array.from({ length: failOnUnit - 1 }, () => ({ kind: 'ok' as const })), { kind: '500' }, { kind: '500' }];
      return new HttpApiDestination({
        name,
        url: api.url,
        token: 's3cret',
        mapping: { id: 'id', name: 'name', score: 'score' },
        primaryKey,
        batchSize: 40,
        maxAttempts: 2,
        requestsPerSecond: 1000,
        sleep: async () => undefined,
      });
    },
    holds: async () => new Map([...api.records].map(([k, v]) => [k, v])),
    arrivals: () => api.log.filter((l) => l.status === 200).map((l) => l.key),
    close: () => api.stop(),
  } satisfies DestinationFixture;
});

describe('LocalFolderSink', () => {
  it('leaves no partial file under the final name when the body fails', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dropkit-sink-'));
    const sink = new LocalFolderSink(root);
    const { Readable } = await import('node:stream');
    const broken = async () =>
      new Readable({
        read() {
          this.push('half');
          this.destroy(new Error('source died'));
        },
      });
    await expect(sink.put('a/b.csv', broken, 10)).rejects.toThrow('source died');
    expect(await sink.size('a/b.csv')).toBeUndefined();
    expect(await readdir(join(root, 'a'))).toEqual([]);
    await sink.put('a/b.csv', async () => Readable.from([Buffer.from('0123456789')]), 10);
    expect((await stat(join(root, 'a', 'b.csv'))).size).toBe(10);
    await rm(root, { recursive: true, force: true });
  });
});

describe('deliverDestinations', () => {
  it('computes a change set once: a resumed sync sends the files of the first attempt', async () => {
    const { LocalStore } = await import('../../lib/adapters/local/local-store');
    const { DuckDbDestinationEngine } = await import('../../lib/adapters/duckdb/duckdb-destination');
    const { deliverDestinations } = await import('../../lib/core/destinations/deliver');
    const { fixedClock } = await import('../../lib/core/ports/clock');
    const { publishDrop } = await import('./drops');
    const dir = await mkdtemp(join(tmpdir(), 'dropkit-once-'));
    const store = new LocalStore(join(dir, 'store'));
    const engine = await DuckDbDestinationEngine.open({ store, workDir: dir, threads: 1 });
    let diffs = 0;
    const changes = { diff: (r: Parameters<typeof engine.diff>[0]) => (diffs++, engine.diff(r)) };
    const log: string[] = [];
    const plan = (failOnUnit?: number) => ({
      destination: observedFileDestination('p', new LocalFolderSink(join(dir, 'partner')), log, failOnUnit),
      mode: 'upsert' as const,
      primaryKey: ['id'],
      takes: 'files' as const,
    });
    try {
      const ref = await publishDrop(store, 'r1', 'SELECT i AS id, i AS v FROM range(1, 11) t(i)');
      const deps = { store, clock: fixedClock('2024-01-15T07:00:00Z'), rows: engine, changes };
      expect((await deliverDestinations(ref, { ...deps, destinations: [plan(2)] }))[0].status).toBe('failed');
      const [done] = await deliverDestinations(ref, { ...deps, destinations: [plan()] });
      expect(done.status).toBe('delivered');
      expect(diffs).toBe(1);
      expect(done.changeSet?.inserts.rows).toBe(10);
    } finally {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
