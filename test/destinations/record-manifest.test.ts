import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { join } from 'node:path';
import { parse } from 'yaml';
import { destinationFactory } from '../../lib/adapters/destinations/destination-factory';
import { deliverySection, destinationTarget } from '../../lib/core/destinations/delivery-section';
import { pushDrop } from '../../lib/core/destinations/push-drop';
import type { DeliveredRef } from '../../lib/core/steps/run-plan';
import { feedSchema, type DestinationSpec } from '../../lib/core/feed/feed-schema';
import type { Manifest } from '../../lib/core/manifest';
import { manifestProblems } from '../../lib/core/manifest-schema';
import { fixedClock } from '../../lib/core/ports/clock';
import manifestSchema from '../../schemas/manifest.v1.schema.json';
import { runFeed } from '../helpers/local-run';
import { validManifest } from '../helpers/manifest-fixture';
import { DAILY_SQL, dailyFeed, eventsSelect, PROJECT_YAML, tempProject, type TempProject, writeParquet } from '../helpers/temp-project';

const API = {
  name: 'crm',
  type: 'api',
  sync: 'upsert',
  primaryKey: ['id'],
  url: 'https://bot:pa55@crm.example/v1/contacts?token=abc',
  tokenEnv: 'CRM_TOKEN',
  mapping: { id: 'id' },
};
const SFTP = {
  name: 'acme-sftp',
  type: 'sftp',
  host: 'sftp.acme.example',
  username: 'drops',
  privateKeyEnv: 'ACME_KEY',
  hostKeySha256: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
  path: 'in',
};
const S3 = { name: 'acme-s3', type: 's3', bucket: 'acme-inbound', prefix: '/drops/', roleArn: 'arn:aws:iam::123456789012:role/in', externalId: 'x1' };

/**
 * The full published schema, compiled here: the generated validator the Lambdas carry checks the
 * delivery section only as an object (scripts/manifest-validator.ts LOOSE_IN_VALIDATOR).
 */
const fullSchema = (() => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv.compile(manifestSchema);
})();
const schemaProblems = (m: unknown): string[] => (fullSchema(m) ? [] : (fullSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

const feedWith = (extra: object) => feedSchema.parse({ ...parse(dailyFeed('daily')), ...extra });

describe("the manifest's delivery section", () => {
  it("lists the feed's destinations, then the partner's own, with kind, target, mode and owner, and no secrets", () => {
    const feed = feedWith({ destinations: [API], partners: [{ id: 'acme', destinations: [SFTP, S3] }] });
    expect(deliverySection(feed, 'acme')).toEqual({
      destinations: [
        { name: 'crm', kind: 'api', target: 'api https://crm.example/v1/contacts', mode: 'upsert', partner: null },
        { name: 'acme-sftp', kind: 'sftp', target: 'sftp drops@sftp.acme.example:22/in', mode: 'full', partner: 'acme' },
        { name: 'acme-s3', kind: 's3', target: 's3://acme-inbound/drops/ as arn:aws:iam::123456789012:role/in', mode: 'full', partner: 'acme' },
      ],
    });
    expect(JSON.stringify(deliverySection(feed, 'acme'))).not.toMatch(/pa55|token=|x1/);
    expect(deliverySection(feed, null)?.destinations.map((d) => d.name)).toEqual(['crm']);
    expect(deliverySection(feedWith({}), null)).toBeUndefined();
  });

  it('names each target as its adapter does', () => {
    const build = destinationFactory({ feedFile: 'feeds/daily.yaml', projectDir: '/p', env: { CRM_TOKEN: 't', ACME_KEY: 'k' } });
    const specs = feedWith({ destinations: [API, SFTP, S3] }).destinations as DestinationSpec[];
    for (const spec of specs) expect(destinationTarget(spec)).toBe(build(spec).target);
  });

  it('is optional: a manifest written before destinations stays valid, and a wrong kind is refused', () => {
    const file = { path: 'part-00000.csv', format: 'csv' as const, compression: 'none' as const, rows: 1, bytes: 3, sha256: 'a'.repeat(64) };
    expect(schemaProblems(validManifest([file]))).toEqual([]);
    expect(manifestProblems(validManifest([file]))).toEqual([]);
    const bad = { ...validManifest([file]), delivery: { destinations: [{ name: 'x', kind: 'ftp', target: 'x', mode: 'full', partner: null }] } };
    expect(schemaProblems(bad).join()).toMatch(/delivery\/destinations\/0\/kind must be equal to one of the allowed values/);
    expect(manifestProblems({ ...validManifest([file]), delivery: [] }).join()).toMatch(/delivery: Invalid input: expected object/);
  });
});

describe('a drop with destinations', () => {
  let p: TempProject;
  beforeAll(async () => {
    const destinations = `destinations:
  - { type: local, name: inbox, path: inbox }
  - { type: local, name: changes, path: changes, sync: upsert, primaryKey: [id] }
`;
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed('daily', destinations), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterAll(() => p.cleanup());

  it('says at the commit point where it goes, and each destination receives that manifest plus what it received', async () => {
    const { outcome, store, project } = await runFeed(p.dir, 'daily', { slot: '2024-01-15T06:00:00Z', now: '2024-01-15T07:00:00Z' });
    expect(outcome.status).toBe('delivered');
    const ours = JSON.parse((await store.get(outcome.manifestKey!))!.body.toString('utf8')) as Manifest;
    expect(schemaProblems(ours)).toEqual([]);
    expect(ours.delivery).toEqual({
      destinations: [
        { name: 'inbox', kind: 'local', target: 'folder inbox', mode: 'full', partner: null },
        { name: 'changes', kind: 'local', target: 'folder changes', mode: 'upsert', partner: null },
      ],
    });

    const feed = project.feeds.find((f) => f.spec.name === 'daily')!;
    const { DuckDbDestinationEngine } = await import('../../lib/adapters/duckdb/duckdb-destination');
    const engine = await DuckDbDestinationEngine.open({ store, workDir: p.dir, threads: 1 });
    const ref = {
      prefix: project.spec.prefix,
      feed: 'daily',
      partner: null,
      slot: outcome.slot,
      runId: outcome.runId,
      revision: 1,
      manifestKey: outcome.manifestKey!,
    };
    try {
      await pushDrop(ref as DeliveredRef, feed, {
        store,
        clock: fixedClock('2024-01-15T07:05:00Z'),
        destinationBuilder: (f) => destinationFactory({ feedFile: f.file, projectDir: p.dir, env: {} }),
        rows: engine,
        changes: engine,
      });
    } finally {
      await engine.close();
    }
    const theirs = (folder: string) =>
      JSON.parse(readFileSync(join(p.dir, folder, 'daily', `slot=${outcome.slot}`, `run=${outcome.runId}`, 'manifest.json'), 'utf8')) as Manifest;

    const inbox = theirs('inbox');
    expect(schemaProblems(inbox)).toEqual([]);
    expect({ ...inbox, delivery: undefined }).toEqual({ ...ours, delivery: undefined });
    expect(inbox.delivery?.destinations).toEqual(ours.delivery?.destinations);
    expect(inbox.delivery?.delivered).toEqual({
      destination: 'inbox',
      mode: 'full',
      base: null,
      files: ours.files.map((f) => ({ path: f.path, rows: f.rows, bytes: f.bytes })),
    });

    const changes = theirs('changes');
    expect(schemaProblems(changes)).toEqual([]);
    expect(changes.delivery?.delivered).toMatchObject({ destination: 'changes', mode: 'upsert', base: null });
    expect(changes.delivery?.delivered?.files.map((f) => [f.path, f.op ?? null, f.rows])).toEqual([
      ['changes/inserts.parquet', 'insert', ours.rowCount],
      ['changes/updates.parquet', 'update', 0],
      ['changes.json', null, 0],
    ]);
  });
});
