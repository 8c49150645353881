import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbEngine } from '../lib/adapters/duckdb/duckdb-engine';
import { S3LinkSigner } from '../lib/adapters/s3/s3-link-signer';
import { S3Store } from '../lib/adapters/s3/s3-store';
import { latestKey } from '../lib/core/layout';
import type { LatestPointer, Manifest } from '../lib/core/manifest';
import { manifestProblems } from '../lib/core/manifest-schema';
import { loadProject } from '../lib/project/load-project';
import { runSlot, RunOutcome } from '../lib/runner/run-slot';
import { listKeys, localDeps, readJson } from '../test/helpers/local-run';
import { DAILY_SQL, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../test/helpers/temp-project';
import { createBucket, motoS3Client } from './helpers/moto';

const SLOT = '2024-01-15T06:00:00Z';

/**
 * Races on moto through the real SDK: the lease (a conditional PutObject), the commit point
 * (manifest.json written with If-None-Match) and the pointer (If-Match) keep concurrent attempts
 * apart, and moto enforces all three. `move` (CopyObject with If-None-Match, which moto ignores)
 * needs no condition to be safe: it only ever targets the run's own `run=<runId>/` folder, which
 * only the lease holder writes; publish re-checks that no manifest exists and clears that folder
 * first, and the manifest it then writes conditionally records each file's SHA-256 (and version),
 * so a file overwritten by a stale attempt would fail verification, never pass as delivered.
 */
describe('concurrent reruns of one slot through S3Store on moto', () => {
  let project: TempProject;
  let store: S3Store;
  let bucket: string;
  beforeAll(async () => {
    project = tempProject({
      'dropkit.yaml': 'name: test\nprefix: drops\nsources:\n  events: data/events.parquet\n',
      'feeds/daily.yaml': dailyFeed('daily'),
      'feeds/daily.sql': DAILY_SQL,
    });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
    bucket = await createBucket('races');
    store = new S3Store({ bucket, client: motoS3Client() });
  });
  afterAll(() => project.cleanup());

  function run(rerun: boolean, n: number): Promise<RunOutcome> {
    const loaded = loadProject(project.dir);
    const workDir = join(project.dir, `work-${n}`);
    mkdirSync(workDir, { recursive: true });
    return runSlot(
      { feed: 'daily', partner: null, slot: new Date(SLOT), rerun },
      {
        ...localDeps(loaded, { now: '2024-01-15T07:00:00Z', store }),
        signer: new S3LinkSigner({ bucket, client: motoS3Client() }),
        openEngine: () => DuckDbEngine.open({ store, sources: loaded.sources, workDir, prefix: loaded.spec.prefix }),
        consumers: () => [],
        operators: [],
      },
    );
  }

  it('delivers one new revision out of six, and every manifest in the bucket matches its files', async () => {
    expect((await run(false, 0)).status).toBe('delivered');
    const outcomes = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => run(true, n)));
    // The lease (a conditional PutObject, enforced by moto) lets one attempt in; the others find it held.
    expect(outcomes.map((o) => o.status).sort()).toEqual(['busy', 'busy', 'busy', 'busy', 'busy', 'delivered']);
    const delivered = outcomes.filter((o) => o.status === 'delivered');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.revision).toBe(2);
    // The others were turned away, not failed half-way: nothing of theirs is visible.
    for (const o of outcomes.filter((x) => x.status !== 'delivered')) expect(['busy', 'already-delivered']).toContain(o.status);

    const keys = await listKeys(store, 'drops/daily/');
    const manifests = keys.filter((k) => k.endsWith('/manifest.json'));
    expect(manifests).toHaveLength(2);
    const revisions: number[] = [];
    for (const key of manifests) {
      const m = await readJson<Manifest>(store, key);
      expect(manifestProblems(m)).toEqual([]);
      revisions.push(m.revision);
      const folder = key.slice(0, -'manifest.json'.length);
      // Exactly the files the manifest lists, byte for byte, under its run folder.
      expect(keys.filter((k) => k.startsWith(folder) && k !== key).sort()).toEqual(m.files.map((f) => folder + f.path).sort());
      for (const f of m.files) {
        const body = (await store.get(folder + f.path))!.body;
        expect({ path: f.path, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') }).toEqual({
          path: f.path,
          bytes: f.bytes,
          sha256: f.sha256,
        });
      }
    }
    expect(revisions.sort()).toEqual([1, 2]);
    const pointer = await readJson<LatestPointer>(store, latestKey({ prefix: 'drops', feed: 'daily', partner: null }));
    expect(pointer).toMatchObject({ revision: 2, runId: delivered[0]!.runId });
    // Staging is gone once published.
    expect(keys.filter((k) => k.includes('_staging'))).toEqual([]);
  });
});
