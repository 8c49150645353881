import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DuckDbDestinationEngine } from '../../lib/adapters/duckdb/duckdb-destination';
import { destinationFactory } from '../../lib/adapters/destinations/destination-factory';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { compileDiffSql } from '../../lib/core/destinations/change-engine';
import { deliverDestinations } from '../../lib/core/destinations/deliver';
import { destinationPlans, destinationSpecs } from '../../lib/core/destinations/plans';
import { ConfigError } from '../../lib/core/errors';
import { destinationSchema, feedSchema } from '../../lib/core/feed/feed-schema';
import { loadProject } from '../../lib/project/load-project';
import { fixedClock } from '../../lib/core/ports/clock';
import { dailyFeed, PROJECT_YAML, tempProject } from '../helpers/temp-project';
import { FakeApi } from './fake-api';
import { publishDrop } from './drops';

const SHOP = join(__dirname, '..', '..', 'examples', 'shop');

function problems(feedYaml: string): string {
  const p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': feedYaml, 'feeds/daily.sql': 'SELECT 1 AS id' });
  try {
    loadProject(p.dir);
    return '';
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message;
  } finally {
    p.cleanup();
  }
}

describe('destinations in a feed file', () => {
  it('names the field and the fix when a diff sync has no primary key', () => {
    const message = problems(dailyFeed('daily', 'destinations:\n  - { name: crm, type: local, path: out, sync: mirror }\n'));
    expect(message).toMatch(/feeds\/daily\.yaml: destinations\.0\.primaryKey: sync: mirror sends only what changed/);
    expect(message).toMatch(/fix: add primaryKey: \[id\]/);
  });

  it('refuses an SFTP destination without a pinned host key fingerprint', () => {
    const message = problems(
      dailyFeed('daily', 'destinations:\n  - { name: p, type: sftp, host: h, username: u, privateKeyEnv: K, hostKeySha256: "ssh-ed25519 AAAA" }\n'),
    );
    expect(message).toMatch(/destinations\.0\.hostKeySha256: must be a host key fingerprint as ssh-keygen -lf prints it/);
  });

  it('refuses two destinations of one name, and an API whose key columns are not mapped', () => {
    const message = problems(
      dailyFeed(
        'daily',
        'destinations:\n  - { name: a, type: local, path: x }\n  - { name: a, type: api, url: "https://crm.example/b", tokenEnv: T, sync: upsert, primaryKey: [id], mapping: { name: n } }\n',
      ),
    );
    expect(message).toMatch(/destinations\.1\.name: destination name "a" is used twice/);
    expect(message).toMatch(/destinations\.1\.mapping: the API cannot identify rows: primary key column\(s\) id are not mapped/);
  });

  it("puts a partner's own destinations after the feed's", () => {
    const feed = feedSchema.parse({
      ...parse(dailyFeed('daily')),
      destinations: [{ name: 'all', type: 'local', path: 'x' }],
      partners: [
        {
          id: 'acme',
          destinations: [{ name: 'acme-s3', type: 's3', bucket: 'acme-inbound', roleArn: 'arn:aws:iam::123456789012:role/in', externalId: 'xid' }],
        },
      ],
    });
    expect(destinationSpecs(feed, 'acme').map((d) => d.name)).toEqual(['all', 'acme-s3']);
    expect(destinationSpecs(feed, null).map((d) => d.name)).toEqual(['all']);
  });

  it('says which environment variable holds a missing secret', () => {
    const spec = destinationSchema.parse(parse(readFileSync(join(SHOP, 'destinations', 'crm-sync.yaml'), 'utf8')));
    expect(() => destinationFactory({ feedFile: 'feeds/weekly_customers.yaml', projectDir: SHOP, env: {} })(spec)).toThrow(
      /feeds\/weekly_customers\.yaml: destinations\.crm\.tokenEnv: environment variable CRM_API_TOKEN is not set/,
    );
  });
});

describe('compileDiffSql', () => {
  it('compiles NULL-safe, key-ordered diffs that Athena runs too (standard SQL, the engine quotes)', () => {
    const sql = compileDiffSql(['id', 'v'], ['id'], (n) => `"${n}"`, { base: 'base_t', cur: 'cur_t' });
    expect(sql.updates).toBe('SELECT c."id", c."v" FROM cur_t c JOIN base_t b ON b."id" = c."id" WHERE b."v" IS DISTINCT FROM c."v" ORDER BY c."id"');
    expect(() => compileDiffSql(['id'], ['key'], (n) => n, { base: 'b', cur: 'c' })).toThrow(/primary key column\(s\) key are not in the drop/);
  });
});

describe('the shop example', () => {
  it('pushes daily_orders to a local folder destination (development only: left out of the deployed feeds)', () => {
    const feed = loadProject(SHOP, { localSources: false }).feeds.find((f) => f.spec.name === 'daily_orders');
    expect(feed?.spec.destinations).toEqual([expect.objectContaining({ name: 'partner-inbox', type: 'local', sync: 'full' })]);
  });

  it('syncs customers to a CRM API as its crm-sync.yaml says: all rows first, then only the changes', async () => {
    const api = new FakeApi('crm-token', 'externalId');
    await api.start();
    const dir = await mkdtemp(join(tmpdir(), 'dropkit-crm-'));
    const store = new LocalStore(join(dir, 'store'));
    const engine = await DuckDbDestinationEngine.open({ store, workDir: dir, threads: 1 });
    try {
      const spec = destinationSchema.parse({
        ...parse(readFileSync(join(SHOP, 'destinations', 'crm-sync.yaml'), 'utf8')),
        url: api.url,
        requestsPerSecond: 1000,
      });
      const build = destinationFactory({ feedFile: 'destinations/crm-sync.yaml', projectDir: SHOP, env: { CRM_API_TOKEN: 'crm-token' } });
      const customers = (n: number, renamed: number) =>
        `SELECT i AS customer_id, CASE WHEN i = ${renamed} THEN 'Renamed' ELSE 'Customer ' || i END AS name, 'NL' AS country, DATE '2024-01-01' AS signup_date, i % 7 = 0 AS vip, TIMESTAMP '2024-01-15 05:00:00' AS updated_at FROM range(${n - 499}, ${n + 1}) t(i)`;
      const deliver = async (runId: string, select: string, slot: string) =>
        (
          await deliverDestinations(await publishDrop(store, runId, select, slot), {
            store,
            clock: fixedClock('2024-01-15T12:00:00Z'),
            destinations: destinationPlans([spec], build),
            rows: engine,
            changes: engine,
          })
        )[0];
      const first = await deliver('r1', customers(500, 0), '20240115T050000Z');
      expect(first).toMatchObject({ status: 'delivered', rowsSent: 500, base: null });
      const second = await deliver('r2', customers(510, 100), '20240122T050000Z');
      // 10 new (501..510), 1 renamed (100), 10 gone (1..10).
      expect(second).toMatchObject({ status: 'delivered', rowsSent: 21 });
      expect(api.records.size).toBe(500);
      expect(api.records.get('100')).toMatchObject({ externalId: 100, fullName: 'Renamed', countryCode: 'NL', isVip: false });
      expect(api.records.has('5')).toBe(false);
      expect(api.log.slice(-3).map((l) => [l.op, l.rows])).toEqual([
        ['insert', 10],
        ['update', 1],
        ['delete', 10],
      ]);
    } finally {
      await engine.close();
      await api.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
