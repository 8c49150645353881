import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../lib/core/errors';
import { loadProject } from '../../lib/project/load-project';
import { AthenaEngine } from '../../lib/adapters/athena/athena-engine';
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { buildLambdaDeps, ENV, parseBundledFeeds, readRuntimeConfig } from '../../lambdas/runtime';

const EXAMPLE = join(__dirname, '../../examples/shop');

describe('the Lambda runtime', () => {
  it('takes back the feeds packaged at deploy time, validated again with the feed schema', () => {
    const feeds = loadProject(EXAMPLE, { localSources: false }).feeds;
    const parsed = parseBundledFeeds(JSON.stringify({ feeds }));
    expect(parsed.map((f) => f.spec.name)).toEqual(feeds.map((f) => f.spec.name));
    expect(parsed[0]).toEqual(feeds[0]);
  });

  it('fails at cold start on a bundled feed that is not valid, naming the feed file and field', () => {
    const feeds = loadProject(EXAMPLE, { localSources: false }).feeds;
    const broken = feeds.map((f, i) => (i === 1 ? { ...f, spec: { ...f.spec, links: { expiresIn: 'P30D' }, colour: 'red' } } : f));
    let error: unknown;
    try {
      parseBundledFeeds(JSON.stringify({ feeds: broken }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.file)).toContain(`feeds.json feeds[1] (${feeds[1].file})`);
    expect((error as ConfigError).problems.map((p) => p.path)).toEqual(expect.arrayContaining([expect.stringMatching(/^links\.expiresIn/), 'colour']));
  });

  it('fails on a bundle that is not JSON, saying to deploy again', () => {
    expect(() => parseBundledFeeds('{not json')).toThrow(/feeds\.json: not valid JSON.*\n.*fix: deploy again/);
  });

  it('reads its settings from the environment the construct sets, naming a missing variable', () => {
    expect(() => readRuntimeConfig({})).toThrow(`environment variable ${ENV.bucket} is not set`);
    const config = readRuntimeConfig({
      [ENV.bucket]: 'b',
      [ENV.prefix]: 'drops',
      [ENV.feedTopicArnPrefix]: 'arn:aws:sns:eu-west-1:123456789012:shop-feed-',
      [ENV.leaseTtlSeconds]: '7200',
    });
    expect(config).toMatchObject({ bucket: 'b', prefix: 'drops', feedTopicArnPrefix: 'arn:aws:sns:eu-west-1:123456789012:shop-feed-', leaseTtlSeconds: 7200 });
    expect(() => readRuntimeConfig({ [ENV.bucket]: 'b', [ENV.feedTopicArnPrefix]: 'shop-feed-' })).toThrow(ENV.feedTopicArnPrefix);
  });

  it('builds S3 store, signer and notifiers for a feed from the environment and the bundled file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dropkit-runtime-'));
    writeFileSync(join(dir, 'feeds.json'), JSON.stringify({ feeds: loadProject(EXAMPLE, { localSources: false }).feeds }));
    const deps = buildLambdaDeps({
      [ENV.bucket]: 'drops-bucket',
      [ENV.prefix]: 'drops',
      [ENV.feedsFile]: join(dir, 'feeds.json'),
      [ENV.opsTopicArn]: 'arn:aws:sns:eu-west-1:123456789012:ops',
      [ENV.feedTopicArnPrefix]: 'arn:aws:sns:eu-west-1:123456789012:shop-feed-',
      AWS_REGION: 'eu-west-1',
    });
    expect(deps.store.kind).toBe('s3');
    expect(deps.prefix).toBe('drops');
    const feed = deps.feeds.get('daily_orders');
    expect(deps.consumers(feed, null).map((n) => n.target)).toEqual(['sns arn:aws:sns:eu-west-1:123456789012:shop-feed-daily_orders', 'eventbridge default']);
    expect(deps.operators.map((n) => n.target)).toEqual(['sns arn:aws:sns:eu-west-1:123456789012:ops', 'eventbridge default']);
  });

  it('stages on Athena in the configured workgroup and staging database, under the staging prefix the roles may write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dropkit-runtime-'));
    writeFileSync(join(dir, 'feeds.json'), JSON.stringify({ feeds: loadProject(EXAMPLE, { localSources: false }).feeds }));
    const deps = buildLambdaDeps({
      [ENV.bucket]: 'drops-bucket',
      [ENV.prefix]: 'drops',
      [ENV.workgroup]: 'dropkit-wg',
      [ENV.stagingDatabase]: 'dropkit_staging',
      [ENV.feedsFile]: join(dir, 'feeds.json'),
      AWS_REGION: 'eu-west-1',
    });
    expect(deps.engine).toBeInstanceOf(AthenaEngine);
    expect(deps.engine.dialect.name).toBe('athena');
    const statement = await deps.engine.compileStage({
      runId: 'run1',
      attemptId: 'a1',
      stagingPrefix: 'drops/_staging/run1/a1/',
      sql: 'SELECT order_id FROM orders WHERE ordered_at >= $window_start',
      parameters: [{ name: 'window_start', type: 'TIMESTAMP', value: '2024-01-14T06:00:00.000Z' }],
    });
    expect(statement.sql).toMatch(/^CREATE TABLE "?dropkit_staging"?\./);
    expect(statement.sql).toContain('s3://drops-bucket/drops/_staging/run1/a1/');
    expect(statement.parameters).toEqual([{ name: 'window_start', type: 'TIMESTAMP', value: '2024-01-14T06:00:00.000Z' }]);
  });

  describe("with the bucket's KMS key in the environment", () => {
    const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const env = () => {
      const dir = mkdtempSync(join(tmpdir(), 'dropkit-runtime-'));
      writeFileSync(join(dir, 'feeds.json'), JSON.stringify({ feeds: loadProject(EXAMPLE, { localSources: false }).feeds }));
      return { [ENV.bucket]: 'drops-bucket', [ENV.prefix]: 'drops', [ENV.feedsFile]: join(dir, 'feeds.json'), [ENV.kmsKeyArn]: KEY, AWS_REGION: 'eu-west-1' };
    };
    let s3: ReturnType<typeof mockClient>;
    beforeEach(() => {
      s3 = mockClient(S3Client);
    });
    afterEach(() => s3.restore());

    it('writes and moves every object SSE-KMS with that key, not SSE-S3', async () => {
      s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
      s3.on(HeadObjectCommand).resolves({ ContentLength: 3, ETag: '"e"' });
      s3.on(CopyObjectCommand).resolves({ VersionId: 'v1' });
      const deps = buildLambdaDeps(env());
      await deps.store.put('drops/x/manifest.json', 'abc');
      await deps.store.move('drops/_staging/a', 'drops/x/part-00000.parquet');
      const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
      const copies = s3.commandCalls(CopyObjectCommand).map((c) => c.args[0].input);
      expect(puts).toHaveLength(1);
      expect(copies).toHaveLength(1);
      for (const input of [...puts, ...copies]) expect(input).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY });
    });

    it('asks Athena to write what it writes into the bucket SSE-KMS with it', async () => {
      const athena = mockClient(AthenaClient);
      try {
        athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
        athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { QueryExecutionId: 'q1', Status: { State: 'SUCCEEDED' } } });
        const deps = buildLambdaDeps(env());
        await deps.engine.dropStaged({
          engine: 'athena',
          table: '"db"."stg_run1_a1"',
          location: 'drops/_staging/run1/a1/staged/',
          format: 'parquet',
          rowCount: 0,
          columns: [],
          execution: { executionId: null, rows: null, bytesScanned: null, engineMillis: null },
        });
        const [start] = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
        expect(start.ResultConfiguration).toEqual({
          OutputLocation: expect.stringMatching(/^s3:\/\/drops-bucket\/drops\/_staging\/run1\/a1\//),
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: KEY },
        });
      } finally {
        athena.restore();
      }
    });
  });
});
