import { deployWarnings, tablesRead, trinoParser } from '../../lib/project/deploy-warnings';
import { loadProject } from '../../lib/project/load-project';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import { EXAMPLE } from '../cdk/cdk-app';

const parser = trinoParser()!;
const example = loadProject(EXAMPLE, { localSources: false });
const withSql = (feed: FeedDefinition, athena: string): FeedDefinition => ({ ...feed, sql: { ...feed.sql, athena } });

describe('dropkit check, for a deployment', () => {
  it('finds every table the example reads among its declared AWS sources', () => {
    expect(parser).toBeDefined();
    // daily_orders pushes to a partner's bucket: the deployed pipeline does that too (its push node), so nothing to warn of.
    expect(example.feeds.find((f) => f.spec.name === 'daily_orders')?.spec.destinations).toHaveLength(1);
    expect(deployWarnings(example.feeds, example.spec.aws, parser)).toEqual([]);
  });

  it('warns of a destination cdk synth would refuse, with the same fix', () => {
    const feed = example.feeds.find((f) => f.spec.name === 'daily_orders')!;
    const api = { name: 'crm', type: 'api', url: 'https://crm.example/api', tokenEnv: 'CRM_TOKEN', mapping: { order_id: 'id' }, sync: 'full' };
    const envToken = { ...feed, spec: { ...feed.spec, destinations: [api] } } as unknown as FeedDefinition;
    expect(deployWarnings([envToken], example.spec.aws, parser)).toEqual([
      expect.objectContaining({
        feed: 'daily_orders',
        message: expect.stringMatching(/^destinations\[0\]\.secret: destination crm names only the environment variable CRM_TOKEN/),
        fix: expect.stringContaining('secret: { name: dropkit/destinations/crm }'),
      }),
    ]);
  });

  it('reads FROM and JOIN tables with the Trino grammar, unqualified ones in the default database, common table expressions left out', () => {
    const sql = `WITH recent AS (SELECT * FROM orders WHERE ordered_at >= $window_start)
      SELECT r.order_id, c.name FROM recent r JOIN shop_raw.customers c ON c.customer_id = r.customer_id
      LEFT JOIN "Shop"."Returns" x ON x.order_id = r.order_id`;
    expect(tablesRead(sql, parser, 'shop')).toEqual(['shop.orders', 'shop.returns', 'shop_raw.customers']);
  });

  it('parses each statement once (check on 200 feeds spent most of its CPU in the parser)', () => {
    const calls: string[] = [];
    const counting = {
      parse: (sql: string, o: { database: string }) => (calls.push('parse'), parser.parse(sql, o)),
      astify: (sql: string, o: { database: string }) => (calls.push('astify'), parser.astify(sql, o)),
      tableList: (sql: string, o: { database: string }) => (calls.push('tableList'), parser.tableList(sql, o)),
    };
    expect(tablesRead('WITH r AS (SELECT 1 AS x) SELECT * FROM orders JOIN r ON true', counting, 'shop')).toEqual(['shop.orders']);
    expect(calls).toEqual(['parse']);
  });

  it('warns a feed that reads a table outside the aws: section, saying what to add', () => {
    const feed = withSql(example.feeds[0], 'SELECT * FROM orders o JOIN finance.fx_rates f ON f.currency = o.currency');
    const warnings = deployWarnings([feed], example.spec.aws, parser);
    expect(warnings).toEqual([
      expect.objectContaining({
        feed: feed.spec.name,
        message: expect.stringContaining('reads finance.fx_rates, which the aws: section of dropkit.yaml does not declare'),
        fix: "add { database: finance, tables: [fx_rates] } to aws.glueTables (and its data's location to aws.s3Locations)",
      }),
    ]);
    // Without an aws: section nothing is granted: every table is a warning.
    expect(deployWarnings([feed], undefined, parser).map((w) => w.message)).toEqual([
      expect.stringContaining('reads default.orders'),
      expect.stringContaining('reads finance.fx_rates'),
    ]);
  });

  it('warns a schema contract declaring a type Athena cannot stage', () => {
    const feed = example.feeds.find((f) => f.spec.checks.some((c) => c.type === 'schema'))!;
    const checks = feed.spec.checks.map((c) => (c.type === 'schema' ? { ...c, columns: [...(c as any).columns, { name: 'cut_off', type: 'TIME' }] } : c));
    const warnings = deployWarnings([{ ...feed, spec: { ...feed.spec, checks } as FeedDefinition['spec'] }], example.spec.aws, parser);
    expect(warnings).toEqual([expect.objectContaining({ message: expect.stringContaining('declares cut_off TIME, a type Athena cannot stage') })]);
  });
});
