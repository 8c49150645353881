import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DuckDbEngine, type DuckDbEngineOptions } from '../../lib/adapters/duckdb/duckdb-engine';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { CheckCache, checkCacheDir, inputsIdentity } from '../../lib/cli/check-cache';
import { compileFeedSql } from '../../lib/cli/compile-sql';
import { loadProject } from '../../lib/project/load-project';
import { generateShopData } from '../../examples/generate-data';
import { BIN, dropkit } from '../helpers/cli';
import { cli } from '../helpers/in-process-cli';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

const NOW = new Date('2024-01-15T07:00:00Z');

describe('check remembers what compiling each feed found', () => {
  let p: TempProject;
  let cacheDir: string;
  /** How many times check opened an engine: zero when every feed's answer came from the cache. */
  let opened: number;

  const openCounting = (options: DuckDbEngineOptions) => {
    opened++;
    return DuckDbEngine.open(options);
  };
  /** compileFeedSql as `dropkit check` calls it, with the engine opener counted. */
  const compile = async () => {
    const cache = CheckCache.open(p.dir, cacheDir);
    const result = await compileFeedSql(loadProject(p.dir), NOW, { cache, openEngine: openCounting });
    cache.save();
    return result;
  };
  const columnsOf = async () => (await compile()).feeds.map((f) => f.columns.map((c) => `${c.name} ${c.type}`).join(', '));

  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    cacheDir = mkdtempSync(join(tmpdir(), 'dropkit-check-cache-'));
    opened = 0;
  });
  afterEach(() => {
    p.cleanup();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('answers an unchanged project from the cache without opening an engine', async () => {
    const cold = await compile();
    expect(opened).toBe(1);
    const warm = await compile();
    expect(opened).toBe(1);
    expect(warm).toEqual(cold);
    expect(warm.feeds[0].columns.map((c) => c.name)).toEqual(['id', 'label', 'amount', 'happened_at']);
  });

  it('compiles again when the SQL file changes', async () => {
    await compile();
    p.write('feeds/daily.sql', 'SELECT id, label FROM events WHERE happened_at >= $window_start');
    expect(await columnsOf()).toEqual(['id INTEGER, label VARCHAR']);
    expect(opened).toBe(2);
  });

  it("compiles again when the feed YAML changes a parameter's type", async () => {
    p.write('feeds/daily.yaml', dailyFeed('daily', 'parameters:\n  tag: x\n'));
    p.write('feeds/daily.sql', 'SELECT id FROM events WHERE upper($tag) = label');
    expect(await columnsOf()).toEqual(['id INTEGER']);
    p.write('feeds/daily.yaml', dailyFeed('daily', 'parameters:\n  tag: 7\n'));
    const r = await compile();
    expect(opened).toBe(2);
    expect(r.problems.map((x) => `${x.file}: ${x.message}`)).toEqual([
      expect.stringMatching(
        /^feeds\/daily\.sql:1:29: does not compile on DuckDB: Binder Error: No function matches the given name and argument types 'upper\(BIGINT\)'/,
      ),
    ]);
  });

  it('compiles again when dropkit.yaml points a source at another file', async () => {
    await compile();
    await writeParquet(join(p.dir, 'data/other.parquet'), `SELECT id::BIGINT AS id, label, amount, happened_at FROM (${eventsSelect()})`);
    p.write('dropkit.yaml', 'name: test\nsources:\n  events: data/other.parquet\n');
    expect(await columnsOf()).toEqual(['id BIGINT, label VARCHAR, amount DECIMAL(10,2), happened_at TIMESTAMP']);
    expect(opened).toBe(2);
  });

  it("compiles again when a source file's content changes, and fails on a column it no longer has", async () => {
    await compile();
    await writeParquet(join(p.dir, 'data/events.parquet'), 'SELECT 1 AS id, 2 AS other');
    const r = await compile();
    expect(opened).toBe(2);
    expect(r.problems.map((x) => `${x.file}: ${x.message}`)).toEqual([
      expect.stringMatching(/^feeds\/daily\.sql:2:7: does not compile on DuckDB: Binder Error: Referenced column "happened_at" not found/),
    ]);
  });

  it('compiles again when a source file is touched, even with the same bytes', async () => {
    await compile();
    const file = join(p.dir, 'data/events.parquet');
    utimesSync(file, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    await compile();
    expect(opened).toBe(2);
  });

  it('compiles again when a glob source matches one more file', async () => {
    p.write('dropkit.yaml', 'name: test\nsources:\n  events: data/parts/*.parquet\n');
    await writeParquet(join(p.dir, 'data/parts/a.parquet'), eventsSelect());
    await compile();
    await compile();
    expect(opened).toBe(1);
    await writeParquet(join(p.dir, 'data/parts/b.parquet'), eventsSelect());
    await compile();
    expect(opened).toBe(2);
  });

  it('compiles SQL that two feeds share once', async () => {
    p.write('feeds/again.yaml', dailyFeed('again'));
    p.write('feeds/again.sql', DAILY_SQL);
    let described = 0;
    const cache = CheckCache.open(p.dir, cacheDir);
    const r = await compileFeedSql(loadProject(p.dir), NOW, {
      cache,
      openEngine: async (options) => {
        const engine = await DuckDbEngine.open(options);
        return { describeQuery: (sql, parameters) => (described++, engine.describeQuery(sql, parameters)), close: () => engine.close() };
      },
    });
    expect(r.feeds.map((f) => f.feed)).toEqual(['again', 'daily']);
    expect(r.feeds[0].columns).toEqual(r.feeds[1].columns);
    expect(described).toBe(1);
  });

  it('ignores a corrupt cache file and writes a good one in its place', async () => {
    await compile();
    const [file] = readdirSync(cacheDir);
    writeFileSync(join(cacheDir, file), '{"format":1,"entries":');
    const again = await compile();
    expect(opened).toBe(2);
    expect(again.problems).toEqual([]);
    expect(JSON.parse(readFileSync(join(cacheDir, file), 'utf8'))).toEqual({ format: 1, entries: expect.any(Object) });
    await compile();
    expect(opened).toBe(2);
  });

  it('does not remember inputs that changed at or after the file clock reading taken before they were read', () => {
    const inputs = { trees: [p.dir], skip: [], files: [], sources: loadProject(p.dir).sources };
    const clock = CheckCache.open(p.dir, cacheDir).fileClock()!;
    expect(inputsIdentity(inputs, clock + 1n)).toEqual(expect.any(String));
    p.write('feeds/daily.sql', 'SELECT 1 AS id');
    const after = statSync(join(p.dir, 'feeds/daily.sql'), { bigint: true }).ctimeNs;
    expect(inputsIdentity(inputs, after)).toBeUndefined();
    expect(inputsIdentity(inputs, after + 1n)).toEqual(expect.any(String));
  });

  it('keeps only the entries the last check used', async () => {
    await compile();
    p.write('feeds/daily.sql', 'SELECT id FROM events');
    await compile();
    const [file] = readdirSync(cacheDir);
    expect(Object.keys((JSON.parse(readFileSync(join(cacheDir, file), 'utf8')) as { entries: object }).entries)).toHaveLength(1);
  });
});

describe('dropkit check with its cache', () => {
  let p: TempProject;
  let cacheHome: string;
  const saved = process.env.XDG_CACHE_HOME;
  const check = (...extra: string[]) => cli(['check', '--project', p.dir, '--now', '2024-01-15T07:00:00Z', ...extra]);

  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    cacheHome = mkdtempSync(join(tmpdir(), 'dropkit-cache-home-'));
    process.env.XDG_CACHE_HOME = cacheHome;
  });
  afterEach(() => {
    process.env.XDG_CACHE_HOME = saved;
    p.cleanup();
    rmSync(cacheHome, { recursive: true, force: true });
  });

  it('prints the same on a warm check as on a cold one, and the same as without the cache', async () => {
    const cold = await check('--json');
    expect(existsSync(checkCacheDir())).toBe(true);
    const warm = await check('--json');
    const uncached = await check('--json', '--no-cache');
    expect(cold.code).toBe(0);
    expect(warm).toEqual(cold);
    expect(uncached).toEqual(cold);
  });

  it('checks, uncached, when the cache folder cannot be made (a spawned CLI: a hang fails, not blocks)', () => {
    // Under /proc Node 20's recursive mkdirSync loops for ever; under a file it fails at once.
    const blocker = join(cacheHome, 'a-file');
    writeFileSync(blocker, '');
    for (const home of [...(existsSync('/proc/self') ? ['/proc/dropkit-no-such-folder'] : []), join(blocker, 'cache')]) {
      const r = spawnSync(process.execPath, [BIN, 'check', '--project', p.dir, '--now', '2024-01-15T07:00:00Z', '--json'], {
        env: { ...process.env, XDG_CACHE_HOME: home },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect([r.signal, r.status, r.stderr]).toEqual([null, 0, '']);
      expect(JSON.parse(r.stdout).status).toBe('valid');
    }
  });

  it('keeps file:line:column of a broken SQL file when the answer comes from the cache', async () => {
    p.write('feeds/daily.sql', 'SELECT id\nFROM evnts WHERE happened_at >= $window_start');
    const cold = await check();
    const warm = await check();
    expect(cold.code).toBe(2);
    expect(cold.stderr).toMatch(/feeds\/daily\.sql:2:6: does not compile on DuckDB: Catalog Error: Table with name evnts does not exist!/);
    expect(warm).toEqual(cold);
  });

  it('sees a change to a SQL file outside the project folder', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'dropkit-shared-sql-'));
    try {
      writeFileSync(join(elsewhere, 'daily.sql'), DAILY_SQL);
      p.write('feeds/daily.yaml', dailyFeed('daily', `query:\n  sql: ${join(relative(join(p.dir, 'feeds'), elsewhere), 'daily.sql')}\n`));
      expect((await check()).stdout).toContain('  returns   id INTEGER, label VARCHAR, amount DECIMAL(10,2), happened_at TIMESTAMP');
      writeFileSync(join(elsewhere, 'daily.sql'), 'SELECT id FROM events');
      expect((await check()).stdout).toContain('  returns   id INTEGER\n');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('refuses a source file deleted since the last check', async () => {
    expect((await check()).code).toBe(0);
    rmSync(join(p.dir, 'data/events.parquet'));
    const r = await check();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sources.events: no file matches this source');
  });

  it('--no-cache neither reads nor writes the cache', async () => {
    expect((await check('--no-cache')).code).toBe(0);
    expect(existsSync(checkCacheDir())).toBe(false);
  });

  it('still refuses a bad DuckDB budget in the environment when every feed is cached', async () => {
    expect((await check()).code).toBe(0);
    process.env.DROPKIT_DUCKDB_MEMORY_LIMIT = 'lots';
    try {
      const r = await check();
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('DROPKIT_DUCKDB_MEMORY_LIMIT: is not a memory size');
    } finally {
      delete process.env.DROPKIT_DUCKDB_MEMORY_LIMIT;
    }
  });

  it('loads neither DuckDB, the SQL grammar, zod nor the YAML parser when the project is unchanged (the built CLI)', async () => {
    // Prints, as the process exits, which of the two it loaded.
    const probe = join(cacheHome, 'probe.js');
    writeFileSync(
      probe,
      `process.on('exit', () => process.stderr.write('loaded: ' + JSON.stringify(['@duckdb/node-api', 'node-sql-parser', 'zod', 'yaml'].filter((m) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + m + '/')))) + '\\n'));`,
    );
    const env = { XDG_CACHE_HOME: cacheHome, NODE_OPTIONS: `--require ${probe}` };
    p.write('dropkit.yaml', `${PROJECT_YAML}aws:\n  database: test\n  glueTables:\n    - database: test\n      tables: [events]\n`);
    const cold = await dropkit(['check', '--project', p.dir, '--now', '2024-01-15T07:00:00Z'], env);
    const warm = await dropkit(['check', '--project', p.dir, '--now', '2024-01-15T07:00:00Z'], env);
    expect([cold.code, cold.stderr]).toEqual([0, 'loaded: ["@duckdb/node-api","node-sql-parser","zod","yaml"]\n']);
    expect([warm.code, warm.stderr]).toEqual([0, 'loaded: []\n']);
    expect(warm.stdout).toBe(cold.stdout);
  });
});

describe('a remembered check sees every change to the project', () => {
  let p: TempProject;
  let cacheHome: string;
  const saved = process.env.XDG_CACHE_HOME;
  const check = async (now = '2024-01-15T07:00:00Z') => {
    const r = await cli(['check', '--project', p.dir, '--now', now]);
    // The same words as a check that remembers nothing: the remembered one is only faster.
    const fresh = await cli(['check', '--project', p.dir, '--now', now, '--no-cache']);
    expect(r).toEqual(fresh);
    return r;
  };

  beforeAll(async () => {
    cacheHome = mkdtempSync(join(tmpdir(), 'dropkit-cache-home-'));
    const shop = mkdtempSync(join(tmpdir(), 'dropkit-shop-'));
    cpSync(join(__dirname, '..', '..', 'examples', 'shop'), shop, { recursive: true });
    await generateShopData(shop, '2024-01-15');
    p = {
      dir: shop,
      write: (path, text) => (mkdirSync(join(shop, path, '..'), { recursive: true }), writeFileSync(join(shop, path), text)),
      cleanup: () => rmSync(shop, { recursive: true, force: true }),
    };
  });
  beforeEach(() => {
    process.env.XDG_CACHE_HOME = cacheHome;
  });
  afterEach(() => {
    process.env.XDG_CACHE_HOME = saved;
  });
  afterAll(() => {
    p.cleanup();
    rmSync(cacheHome, { recursive: true, force: true });
  });

  /** Edits a file of the project for one test, putting it back after. */
  const edited = async (path: string, edit: (text: string) => string, test: () => Promise<void>) => {
    const before = readFileSync(join(p.dir, path), 'utf8');
    await check();
    p.write(path, edit(before));
    try {
      await test();
    } finally {
      p.write(path, before);
    }
  };

  it('shows the slots of the time asked, not of the time remembered', async () => {
    expect((await check('2024-01-15T07:00:00Z')).stdout).toContain('  slot 2024-01-16 06:00 GMT+1  (2024-01-16T05:00:00.000Z)');
    expect((await check('2024-03-01T07:00:00Z')).stdout).toContain('  slot 2024-03-02 06:00 GMT+1  (2024-03-02T05:00:00.000Z)');
  });

  it('sees a feed YAML change that compiles nothing (the checks)', () =>
    edited(
      'feeds/daily_returns.yaml',
      (t) => t.replace(/checks:\n/, 'checks:\n  - type: row_count\n    min: 0\n'),
      async () => expect((await check()).stdout).toContain('  delivers  csv + parquet, shared; 6 checks'),
    ));

  it('refuses a feed YAML broken since the last check', () =>
    edited(
      'feeds/daily_returns.yaml',
      (t) => t.replace(/timezone: UTC/, 'timezone: Mars/Olympus'),
      async () => {
        const r = await check();
        expect(r.code).toBe(2);
        expect(r.stderr).toContain('feeds/daily_returns.yaml: schedule.timezone');
      },
    ));

  it('sees a new feed file', async () => {
    await check();
    p.write('feeds/copy.yaml', readFileSync(join(p.dir, 'feeds/daily_returns.yaml'), 'utf8').replace('name: daily_returns', 'name: copy'));
    p.write('feeds/copy.sql', readFileSync(join(p.dir, 'feeds/daily_returns.sql'), 'utf8'));
    try {
      expect((await check()).stdout).toContain('✓ shop: 6 feeds valid');
    } finally {
      rmSync(join(p.dir, 'feeds/copy.yaml'));
      rmSync(join(p.dir, 'feeds/copy.sql'));
    }
  });

  it('sees a semantic layer change', () =>
    edited(
      'semantic/shop.yml',
      (t) =>
        t.replace('metrics:\n', 'metrics:\n  - name: orders_again\n    label: Orders again\n    type: simple\n    type_params:\n      measure: order_count\n'),
      async () => expect((await check()).stdout).toMatch(/semantic layer: 17 metrics; used by no feed: .*orders_again/),
    ));

  it('sees a dropkit.yaml change', () =>
    edited(
      'dropkit.yaml',
      (t) => t.replace('name: shop', 'name: shop2'),
      async () => expect((await check()).stdout).toContain('✓ shop2: 5 feeds valid'),
    ));

  it('fails when a source file loses a column a feed reads', () =>
    edited(
      'data/customers.csv',
      (t) => t.replace(/^customer_id,/, 'customer_key,'),
      async () => {
        const r = await check();
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/feeds\/weekly_customers\.sql:1:8: does not compile on DuckDB: Binder Error: Referenced column "customer_id" not found/);
      },
    ));

  it('sees an Athena SQL change in the AWS warnings', () =>
    edited(
      'feeds/weekly_customers.athena.sql',
      (t) => t.replace('FROM shop_raw.customers', 'FROM shop_raw.customers_v2'),
      async () => expect((await check()).stdout).toContain('reads shop_raw.customers_v2, which the aws: section of dropkit.yaml does not declare'),
    ));
});

describe('a schema-only engine (what check compiles against)', () => {
  it('gives a query over CSV and Parquet sources the very columns a full engine gives', async () => {
    const p = tempProject({ 'data/people.csv': 'id,name,born,vip\n1,"Ann, B.",2001-02-03,true\n2,,1999-12-31,false\n' });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    const sources = {
      people: { path: join(p.dir, 'data/people.csv'), format: 'csv' as const },
      events: { path: join(p.dir, 'data/events.parquet'), format: 'parquet' as const },
    };
    const sql = 'SELECT p.*, e.label, e.happened_at FROM people p JOIN events e ON e.id = p.id WHERE e.happened_at >= $since';
    const parameters = [{ name: 'since', type: 'TIMESTAMP' as const, value: '2024-01-01T00:00:00Z' }];
    const open = (schemaOnly: boolean) => DuckDbEngine.open({ store: new LocalStore(join(p.dir, 'out')), sources, workDir: join(p.dir, 'work'), schemaOnly });
    const [full, schemaOnly] = [await open(false), await open(true)];
    try {
      const columns = await schemaOnly.describeQuery(sql, parameters);
      expect(columns.map((c) => `${c.name} ${c.type}`)).toEqual([
        'id BIGINT',
        'name VARCHAR',
        'born DATE',
        'vip BOOLEAN',
        'label VARCHAR',
        'happened_at TIMESTAMP',
      ]);
      expect(columns).toEqual(await full.describeQuery(sql, parameters));
    } finally {
      await full.close();
      await schemaOnly.close();
      p.cleanup();
    }
  });
});
