import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AthenaEngine, AthenaEngineOptions, athenaStageStatement } from '../../lib/adapters/athena/athena-engine';
import { AWS_RETRY } from '../../lib/adapters/aws-retry';
import { LocalStore } from '../../lib/adapters/local/local-store';
import type { ObjectStore } from '../../lib/core/ports/object-store';
import type { QueryParameter, StageRequest } from '../../lib/core/ports/query-engine';
import { queryEngineContract } from '../contract/query-engine.contract';
import { collectText, stage } from '../helpers/engine';
import { FakeAthena } from '../helpers/fake-athena';
import { ADVERSARIAL_COLUMNS, ADVERSARIAL_ROWS } from '../helpers/adversarial';
import { openTestEngine } from '../helpers/engine';

const BUCKET = 'drops-bucket';
const BASE = { workGroup: 'dropkit-feeds', stagingDatabase: 'dropkit_staging', bucket: BUCKET, pollIntervalMs: 1 } as const;

/** An engine over a mocked client answered by a DuckDB-backed fake Athena, over a local store. */
async function openAthena(store?: ObjectStore, options: Partial<AthenaEngineOptions> = {}) {
  const root = store ? undefined : await mkdtemp(join(tmpdir(), 'dropkit-athena-'));
  const local = (store as LocalStore | undefined) ?? new LocalStore(join(root!, 'store'));
  const fake = fakes.get(local) ?? (await FakeAthena.create(local, BUCKET));
  fakes.set(local, fake);
  const client = new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = fake.install(client);
  const engine = new AthenaEngine({ ...BASE, store: local, client, ...options });
  return {
    engine,
    store: local as ObjectStore,
    fake,
    mock,
    async cleanup() {
      await engine.close();
      mock.restore();
      if (root) {
        fakes.delete(local);
        await fake.close();
        await rm(root, { recursive: true, force: true });
      }
    },
  };
}
const fakes = new Map<ObjectStore, FakeAthena>();

queryEngineContract('AthenaEngine (mocked client, DuckDB-backed fake Athena)', (store) => openAthena(store));

describe('AthenaEngine', () => {
  let under: Awaited<ReturnType<typeof openAthena>>;
  beforeEach(async () => {
    under = await openAthena();
  });
  afterEach(async () => under.cleanup());

  const request = (over: Partial<StageRequest> = {}): StageRequest => ({
    runId: '2024-01-15T06:00Z-r0-abc123def456',
    attemptId: 'a1',
    stagingPrefix: '_staging/2024-01-15T06:00Z-r0-abc123def456/a1/',
    sql: 'SELECT id, label FROM src WHERE label = $who AND happened_at >= $window_start;',
    parameters: [
      { name: 'window_start', type: 'TIMESTAMP', value: '2024-01-15T00:00:00.000Z' },
      { name: 'who', type: 'VARCHAR', value: "it's; fine" },
    ],
    ...over,
  });

  it('sends the stage step as one CTAS into Parquet with typed positional parameters, a derived token, the workgroup and the result location', async () => {
    const r = request();
    const plan = athenaStageStatement(r, BASE);
    const table = plan.table;
    expect(table).toMatch(/^stg_2024_01_15t06_00z_r0_abc123def456_a1_[0-9a-f]{12}$/);
    expect(plan.input).toEqual({
      QueryString:
        `CREATE TABLE "dropkit_staging"."${table}" WITH (format = 'PARQUET', write_compression = 'ZSTD', ` +
        `external_location = 's3://drops-bucket/_staging/2024-01-15T06:00Z-r0-abc123def456/a1/staged/${table}/') AS ` +
        'SELECT id, label FROM src WHERE label = ? AND happened_at >= ?',
      ExecutionParameters: [`'it''s; fine'`, `TIMESTAMP '2024-01-15 00:00:00.000'`],
      ClientRequestToken: plan.statement.token,
      WorkGroup: 'dropkit-feeds',
      ResultConfiguration: { OutputLocation: 's3://drops-bucket/_staging/2024-01-15T06:00Z-r0-abc123def456/a1/athena-results/' },
    });
    expect(plan.statement.token.length).toBeGreaterThanOrEqual(32);
    expect(plan.statement.token.length).toBeLessThanOrEqual(128);
    expect(plan.statement.token.startsWith('2024-01-15T06_00Z-r0-abc123def456.a1.stage-')).toBe(true);

    // The engine sends exactly that input, and the value with a quote and a semicolon arrives as one literal.
    await under.engine.execute(await under.engine.compileStage(r));
    expect(under.mock.commandCalls(StartQueryExecutionCommand)[0].args[0].input).toEqual(plan.input);
  });

  it('keeps the token within 32 to 128 characters for long run ids and the same for the same step', () => {
    const long = request({ runId: 'x'.repeat(300), stagingPrefix: `_staging/${'x'.repeat(300)}/a1/` });
    const a = athenaStageStatement(long, BASE).statement.token;
    expect(a.length).toBe(128);
    expect(athenaStageStatement(long, BASE).statement.token).toBe(a);
    const short = athenaStageStatement(request({ runId: 'r', stagingPrefix: '_staging/r/a1/', parameters: [], sql: 'SELECT 1 AS x' }), BASE).statement.token;
    expect(short.length).toBeGreaterThanOrEqual(32);
    const other = athenaStageStatement(request({ attemptId: 'a2', stagingPrefix: '_staging/2024-01-15T06:00Z-r0-abc123def456/a2/' }), BASE).statement.token;
    expect(other).not.toBe(athenaStageStatement(request(), BASE).statement.token);
  });

  it('binds every parameter type as an escaped typed literal', () => {
    const parameters: QueryParameter[] = [
      { name: 's', type: 'VARCHAR', value: "O'Brien; DROP TABLE x; --" },
      { name: 'n', type: 'BIGINT', value: 42 },
      { name: 'd', type: 'DOUBLE', value: 0.5 },
      { name: 'b', type: 'BOOLEAN', value: true },
    ];
    const plan = athenaStageStatement(request({ sql: 'SELECT 1 AS x FROM src WHERE label = $s AND id = $n AND amount > $d AND $b', parameters }), BASE);
    expect(plan.input.ExecutionParameters).toEqual([`'O''Brien; DROP TABLE x; --'`, '42', `DOUBLE '0.5'`, 'true']);
    expect(plan.input.QueryString).toMatch(/WHERE label = \? AND id = \? AND amount > \? AND \?$/);
  });

  it('reports execution id, bytes scanned, engine time and the rows a CTAS wrote', async () => {
    const staged = await stage(under.engine, { runId: 'stats', sql: 'SELECT * FROM src', parameters: [] });
    expect(staged.execution).toEqual({ executionId: 'q-0001', rows: 3, bytesScanned: 1234, engineMillis: 56 });
    expect(staged.rowCount).toBe(3);
    expect(staged.columns).toEqual([
      { name: 'id', type: 'INTEGER', nullable: true },
      { name: 'label', type: 'VARCHAR', nullable: true },
      { name: 'amount', type: 'DECIMAL(4,2)', nullable: true },
      { name: 'happened_at', type: 'TIMESTAMP', nullable: true },
    ]);
    expect(under.mock.commandCalls(GetTableMetadataCommand)[0].args[0].input).toEqual({
      CatalogName: 'AwsDataCatalog',
      DatabaseName: 'dropkit_staging',
      TableName: staged.table.split('.')[1].replace(/"/g, ''),
    });
    // Polled until it ended: one RUNNING, then SUCCEEDED.
    expect(under.mock.commandCalls(GetQueryExecutionCommand).length).toBe(2);
  });

  it('names the staged columns as Glue stores them, in lower case', async () => {
    const staged = await stage(under.engine, { runId: 'case', sql: 'SELECT id AS "orderId", label AS "Label" FROM src', parameters: [] });
    expect(staged.columns.map((c) => c.name)).toEqual(['orderid', 'label']);
    expect((await collectText(under.engine, staged))[0]).toEqual(['1', 'plain']);
  });

  it('counts the staged rows with a query when the execution reports none (a state machine ran the CTAS)', async () => {
    const r = request({ sql: 'SELECT id FROM src', parameters: [] });
    await under.engine.execute(await under.engine.compileStage(r));
    const staged = await under.engine.describeStage(r, { executionId: null, rows: null, bytesScanned: null, engineMillis: null });
    expect(staged.rowCount).toBe(3);
    expect(under.mock.commandCalls(StartQueryExecutionCommand).at(-1)!.args[0].input.QueryString).toBe(`SELECT count(*) AS n FROM ${staged.table}`);
  });

  it('turns a FAILED query into QueryFailedError carrying Athena’s reason', async () => {
    under.fake.failNext('FAILED', "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved");
    await expect(stage(under.engine, { runId: 'f', sql: 'SELECT nope FROM src' })).rejects.toMatchObject({
      name: 'QueryFailedError',
      message: expect.stringMatching(/failed: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved/),
    });
  });

  it('turns a CANCELLED query into QueryFailedError carrying Athena’s reason', async () => {
    under.fake.failNext('CANCELLED', 'Query cancelled by user');
    await expect(stage(under.engine, { runId: 'c', sql: 'SELECT 1 AS x' })).rejects.toMatchObject({
      name: 'QueryFailedError',
      message: expect.stringMatching(/was cancelled: Query cancelled by user/),
    });
  });

  it('leaves throttling to the SDK client it builds: adaptive retries, 8 attempts (AWS_RETRY)', async () => {
    // A loopback Athena that throttles the first three StartQueryExecution calls: the real client, not a mock, must retry them.
    const calls: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const action = String(req.headers['x-amz-target']).split('.').pop()!;
        calls.push(action);
        const reply = (status: number, body: object) => res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
        if (action === 'StartQueryExecution' && calls.filter((c) => c === action).length <= 3)
          return reply(400, { __type: 'TooManyRequestsException', message: 'Rate exceeded' });
        if (action === 'StartQueryExecution') return reply(200, { QueryExecutionId: 'q-1' });
        return reply(200, { QueryExecution: { QueryExecutionId: 'q-1', Status: { State: 'SUCCEEDED' } } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const engine = new AthenaEngine({
      ...BASE,
      store: under.store,
      clientConfig: {
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      },
    });
    try {
      await engine.dropStaged({
        engine: 'athena',
        table: '"dropkit_staging"."t_1"',
        location: '_staging/t/a1/staged/',
        format: 'parquet',
        rowCount: 0,
        columns: [],
        execution: { executionId: null, rows: 0, bytesScanned: null, engineMillis: 0 },
      });
      expect(calls).toEqual(['StartQueryExecution', 'StartQueryExecution', 'StartQueryExecution', 'StartQueryExecution', 'GetQueryExecution']);
      const client = (engine as unknown as { client: AthenaClient }).client;
      const mode = client.config.retryMode;
      expect([await client.config.maxAttempts(), typeof mode === 'function' ? await mode() : mode]).toEqual([AWS_RETRY.maxAttempts, AWS_RETRY.retryMode]);
    } finally {
      await engine.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('lets a retried stage step find its query by the same token instead of starting another', async () => {
    const r = request({ sql: 'SELECT id FROM src', parameters: [] });
    const first = await under.engine.execute(await under.engine.compileStage(r));
    // Another process (a retried Lambda) compiles and runs the same step again.
    const again = await openAthena(under.store);
    try {
      const second = await again.engine.execute(await again.engine.compileStage(r));
      expect(second.executionId).toBe(first.executionId);
      const tokens = [...under.mock.commandCalls(StartQueryExecutionCommand), ...again.mock.commandCalls(StartQueryExecutionCommand)].map(
        (c) => c.args[0].input.ClientRequestToken,
      );
      expect(tokens[0]).toBe(tokens[1]);
      expect(under.fake.started).toBe(1);
    } finally {
      await again.cleanup();
    }
  });

  it('takes a stage statement whose table already exists (Athena forgot the token) as done, and counts its rows', async () => {
    const r = request({ sql: 'SELECT id FROM src', parameters: [] });
    await under.engine.execute(await under.engine.compileStage(r));
    under.fake.failNext('FAILED', 'TABLE_ALREADY_EXISTS: Table already exists');
    const statement = await under.engine.compileStage(r);
    const again = await under.engine.execute({ ...statement, token: statement.token.replace(/.$/, (c) => (c === '0' ? '1' : '0')) });
    expect(again).toEqual({ executionId: null, rows: null, bytesScanned: null, engineMillis: null });
    expect((await under.engine.describeStage(r, again)).rowCount).toBe(3);
    under.fake.failNext('FAILED', 'HIVE_PATH_ALREADY_EXISTS: Target directory for table already exists');
    await expect(under.engine.execute({ ...statement, token: 'another-token-that-is-long-enough-0123456789' })).rejects.toMatchObject({
      name: 'QueryFailedError',
    });
  });

  it('reads check results page by page, skipping the header row, with numbers for numeric columns and text otherwise', async () => {
    const staged = await stage(under.engine, { runId: 'q', sql: 'SELECT * FROM src', parameters: [] });
    const rows = await under.engine.query(`SELECT id, label, amount, happened_at, id * 1.5e0 AS half FROM ${staged.table} ORDER BY id`, staged);
    expect(rows).toEqual([
      { id: 1, label: 'plain', amount: '10.50', happened_at: '2024-01-15 06:00:00.000', half: 1.5 },
      { id: 2, label: "x'; DROP TABLE src; --", amount: '0.05', happened_at: '2024-01-15 07:30:00.000', half: 3 },
      { id: 3, label: null, amount: null, happened_at: '2024-01-16 00:00:00.000', half: 4.5 },
    ]);
    // Four rows with the header at two per page.
    const pages = under.mock.commandCalls(GetQueryResultsCommand).filter((c) => c.args[0].input.MaxResults === undefined);
    expect(pages.map((c) => c.args[0].input.NextToken)).toEqual([undefined, '2']);
  });

  it('refuses a check that is not one SELECT before sending anything', async () => {
    const staged = await stage(under.engine, { runId: 'ro', sql: 'SELECT 1 AS x' });
    const before = under.mock.commandCalls(StartQueryExecutionCommand).length;
    await expect(under.engine.query(`DROP TABLE ${staged.table}`, staged)).rejects.toMatchObject({ name: 'QueryFailedError' });
    await expect(under.engine.query(`SELECT 1; DROP TABLE x`, staged)).rejects.toThrow(/one SELECT/);
    await expect(under.engine.query(`SELECT ';' AS semi -- ; not a statement\n`, staged)).resolves.toEqual([{ semi: ';' }]);
    expect(under.mock.commandCalls(StartQueryExecutionCommand).length).toBe(before + 1);
  });

  it('streams canonical text from the result CSV that Athena wrote into the store', async () => {
    const staged = await stage(under.engine, { runId: 'txt', sql: `SELECT id, label, amount, happened_at FROM src ORDER BY id`, parameters: [] });
    expect(await collectText(under.engine, staged)).toEqual([
      ['1', 'plain', '10.50', '2024-01-15T06:00:00Z'],
      ['2', "x'; DROP TABLE src; --", '0.05', '2024-01-15T07:30:00Z'],
      ['3', null, null, '2024-01-16T00:00:00Z'],
    ]);
    const select = under.mock.commandCalls(StartQueryExecutionCommand).at(-1)!.args[0].input;
    expect(select.QueryString).toBe(
      `SELECT CAST("id" AS VARCHAR) AS "id", CAST("label" AS VARCHAR) AS "label", CAST("amount" AS VARCHAR) AS "amount", ` +
        `CASE WHEN "happened_at" = date_trunc('second', "happened_at") THEN date_format("happened_at", '%Y-%m-%dT%H:%i:%sZ') ELSE date_format("happened_at", '%Y-%m-%dT%H:%i:%s.%fZ') END AS "happened_at" FROM ${staged.table}`,
    );
    expect(select.ResultConfiguration).toEqual({ OutputLocation: 's3://drops-bucket/_staging/txt/a1/athena-results/' });
  });

  it('reads the staged rows back in the feed’s orderBy, since the staging table keeps no order', async () => {
    const staged = await under.engine.describeStage(
      request({ runId: 'ord', stagingPrefix: '_staging/ord/a1/', sql: 'SELECT id, label FROM src ORDER BY id DESC', parameters: [], orderBy: ['label', 'id'] }),
      await under.engine.execute(
        await under.engine.compileStage(
          request({
            runId: 'ord',
            stagingPrefix: '_staging/ord/a1/',
            sql: 'SELECT id, label FROM src ORDER BY id DESC',
            parameters: [],
            orderBy: ['label', 'id'],
          }),
        ),
      ),
    );
    expect(staged.orderBy).toEqual(['label', 'id']);
    const rows = await collectText(under.engine, staged);
    expect(rows.map((r) => r[0])).toEqual(['1', '2', '3']); // 'plain' < "x'…" and NULL last, as Trino orders
    const select = under.mock.commandCalls(StartQueryExecutionCommand).at(-1)!.args[0].input.QueryString!;
    expect(select.endsWith(` FROM ${staged.table} ORDER BY ${staged.table}."label", ${staged.table}."id"`)).toBe(true);
  });

  it('streams the shared adversarial rows with the same canonical text as the DuckDB engine, through Athena’s CSV (the SQL run by the fake)', async () => {
    const sql = `SELECT * FROM (VALUES ${ADVERSARIAL_ROWS}) ${ADVERSARIAL_COLUMNS} ORDER BY id`;
    const duck = await openTestEngine();
    try {
      const expected = await collectText(duck.engine, await stage(duck.engine, { runId: 'adv', sql }));
      const staged = await stage(under.engine, { runId: 'adv', sql });
      expect(staged.columns.map((c) => c.type)).toEqual(['INTEGER', 'VARCHAR', 'DECIMAL(38,10)', 'BOOLEAN', 'TIMESTAMP WITH TIME ZONE', 'DATE']);
      expect(await collectText(under.engine, staged)).toEqual(expected);
      expect(expected[1][4]).toBe('2024-01-01T00:00:00.000001Z');
    } finally {
      await duck.cleanup();
    }
  });

  it('fails clearly when the workgroup put the result CSV outside the store', async () => {
    const staged = await stage(under.engine, { runId: 'wg', sql: 'SELECT 1 AS x' });
    const elsewhere = new AthenaEngine({
      ...BASE,
      bucket: 'other-bucket',
      store: under.store,
      client: (under.engine as unknown as { client: AthenaClient }).client,
    });
    await expect(collectText(elsewhere, staged)).rejects.toThrow(/Access Denied|outside the store/);
  });

  it('unloads Parquet to an empty prefix, then moves each file into place with rows from its footer', async () => {
    const staged = await stage(under.engine, { runId: 'pq', sql: 'SELECT * FROM src', parameters: [] });
    const files = await under.engine.exportParquet(staged, { compression: 'snappy', prefix: 'feed/slot=1/run=pq/' });
    expect(files).toEqual([{ key: 'feed/slot=1/run=pq/part-00000.parquet', rows: 3 }]);
    const unload = under.mock.commandCalls(StartQueryExecutionCommand).at(-1)!.args[0].input;
    expect(unload.QueryString).toMatch(
      new RegExp(
        `^UNLOAD \\(SELECT \\* FROM ${escape(staged.table)}\\) TO 's3://drops-bucket/_staging/pq/a1/unload/[0-9a-f]{16}/' WITH \\(format = 'PARQUET', compression = 'SNAPPY'\\)$`,
      ),
    );
    // Nothing is left behind in the scratch prefix.
    const left: string[] = [];
    for await (const o of under.store.list('_staging/pq/a1/unload/')) left.push(o.key);
    expect(left).toEqual([]);
  });

  it('exports into the attempt’s own staging prefix (as the render step does), and a retried export finds its files without a second UNLOAD', async () => {
    const staged = await stage(under.engine, { runId: 'render', sql: 'SELECT * FROM src', parameters: [] });
    await under.store.put('_staging/render/a1/part-00000.csv', 'id\n1\n');
    const files = await under.engine.exportParquet(staged, { compression: 'zstd', prefix: '_staging/render/a1/' });
    expect(files).toEqual([{ key: '_staging/render/a1/part-00000.parquet', rows: 3 }]);
    const unloads = () => under.mock.commandCalls(StartQueryExecutionCommand).filter((c) => c.args[0].input.QueryString!.startsWith('UNLOAD')).length;
    expect(unloads()).toBe(1);
    expect(await under.engine.exportParquet(staged, { compression: 'zstd', prefix: '_staging/render/a1/' })).toEqual(files);
    expect(unloads()).toBe(1);
  });

  it('reads each file’s footer with a ranged read where the store offers one', async () => {
    const staged = await stage(under.engine, { runId: 'ranged', sql: 'SELECT * FROM range(1000) t(i)', parameters: [] });
    const local = under.store as LocalStore;
    const ranges: [string, number, number][] = [];
    const ranged = Object.assign(Object.create(local) as LocalStore, {
      async readRange(key: string, start: number, end: number): Promise<Buffer> {
        ranges.push([key, start, end]);
        return (await readFile(local.localPath(key))).subarray(start, end);
      },
      async read(): Promise<never> {
        throw new Error('the whole object was read');
      },
    });
    const engine = new AthenaEngine({ ...BASE, store: ranged, client: (under.engine as unknown as { client: AthenaClient }).client });
    const files = await engine.exportParquet(staged, { compression: 'zstd', prefix: 'ranged/' });
    expect(files.map((f) => f.rows)).toEqual([1000]);
    const size = (await stat(local.localPath('ranged/part-00000.parquet'))).size;
    expect(ranges).toEqual([[expect.stringMatching(/^_staging\/ranged\/a1\/unload\/[0-9a-f]{16}\//), Math.max(0, size - 65536), size]]);
  });

  it('splits Parquet by rows with a partitioned UNLOAD, numbering partitions in order', async () => {
    const staged = await stage(under.engine, { runId: 'split', sql: 'SELECT * FROM range(25) t(i)', parameters: [] });
    const files = await under.engine.exportParquet(staged, { compression: 'zstd', maxRowsPerFile: 2, prefix: 'out/' });
    expect(files.map((f) => f.rows)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1]);
    expect(files.at(-1)!.key).toBe('out/part-00012.parquet');
    const unload = under.mock.commandCalls(StartQueryExecutionCommand).at(-1)!.args[0].input.QueryString!;
    expect(unload.replace(/unload\/[0-9a-f]{16}\//, 'unload/<hash>/')).toBe(
      `UNLOAD (SELECT *, CAST(floor((row_number() OVER () - 1) / 2) AS BIGINT) AS "dropkit_part" FROM ${staged.table}) ` +
        `TO 's3://drops-bucket/_staging/split/a1/unload/<hash>/' WITH (format = 'PARQUET', compression = 'ZSTD', partitioned_by = ARRAY['dropkit_part'])`,
    );
    await expect(under.engine.exportParquet(staged, { compression: 'zstd', maxRowsPerFile: 0.2 as number, prefix: 'never/' })).rejects.toMatchObject({
      name: 'UsageError',
      message: expect.stringMatching(/at most 100 partitions/),
    });
  });

  it('drops the staging table with DROP TABLE IF EXISTS in Hive syntax (backticks) in the workgroup', async () => {
    const staged = await stage(under.engine, { runId: 'drop', sql: 'SELECT 1 AS x' });
    await under.engine.dropStaged(staged);
    const drop = under.mock.commandCalls(StartQueryExecutionCommand).at(-1)!.args[0].input;
    const table = staged.table.split('.')[1].replace(/"/g, '');
    expect(drop).toMatchObject({ QueryString: `DROP TABLE IF EXISTS \`dropkit_staging\`.\`${table}\``, WorkGroup: 'dropkit-feeds' });
    await expect(under.engine.query(`SELECT count(*) AS n FROM ${staged.table}`, staged)).rejects.toMatchObject({ name: 'QueryFailedError' });
  });

  it('declines to write CSV itself, so the Node writer renders from streamText', async () => {
    expect('exportCsv' in under.engine).toBe(false);
  });

  it('gives up waiting after maxWaitMs and stops the query', async () => {
    const engine = new AthenaEngine({ ...BASE, store: under.store, client: (under.engine as unknown as { client: AthenaClient }).client, maxWaitMs: 0 });
    await expect(stage(engine, { runId: 'slow', sql: 'SELECT 1 AS x' })).rejects.toThrow(/still RUNNING after 0 s/);
    expect(under.mock.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([{ QueryExecutionId: 'q-0001' }]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
