import type * as Layout from '../../lib/core/layout';
import type * as Acknowledgements from '../../lib/cdk/acknowledgements';
import type * as Scopes from '../../lib/cdk/key-scopes';

type Loaded = { acks: typeof Acknowledgements; scopes: typeof Scopes };

/** acknowledgements.ts and key-scopes.ts as they load over a layout whose `pattern` is `change`d (or as it is). */
function load(change?: (actual: typeof Layout) => Partial<typeof Layout>): Loaded {
  let loaded: Loaded | undefined;
  jest.isolateModules(() => {
    if (change) {
      jest.doMock('../../lib/core/layout', () => {
        const actual = jest.requireActual<typeof Layout>('../../lib/core/layout');
        return { ...actual, ...change(actual) };
      });
    }
    loaded = { acks: require('../../lib/cdk/acknowledgements'), scopes: require('../../lib/cdk/key-scopes') };
  });
  jest.dontMock('../../lib/core/layout');
  return loaded!;
}

const NAMES = { stagingDatabase: 'shop_exchange_staging', feedTopicPrefix: 'shop-exchange-feed-', partnerSecretPrefix: 'dropkit/shop-exchange/partners/' };

/** The reason a finding is acknowledged with, for a construct of NAMES. */
function reasonOf({ acks }: Loaded, finding: string): string | undefined {
  return acks.wildcardReasons(NAMES).find((w) => w.finding.test(finding))?.reason;
}

/** The reason a key pattern's wildcard finding is acknowledged with, as cdk-nag names the finding. */
function reasonFor(loaded: Loaded, keyPattern: string): string | undefined {
  return reasonOf(loaded, `Resource::<ExchangeDropsBucketDrops1234ABCD.Arn>/${keyPattern}`);
}

/** Every object-key scope the construct grants (ListBucket's prefix condition is no resource). */
function grantedPatterns({ scopes }: Loaded, prefix: string): string[] {
  const { drops, listPrefix: _condition, ...each } = scopes.keyScopes(prefix);
  return [...drops, ...Object.values(each)];
}

const under = (prefix: string) => (prefix ? `${prefix}/` : '');

describe('the IAM wildcard acknowledgements', () => {
  it('explain every key pattern the construct grants, under any prefix, each kind with its own reason', () => {
    const now = load();
    for (const prefix of ['', 'drops', 'exchange/shop']) {
      for (const p of grantedPatterns(now, prefix)) expect([p, reasonFor(now, p)]).toEqual([p, expect.stringMatching(/.{30}/)]);
    }
    expect(reasonFor(now, 'drops/*/slot=*/run=*/*')).toMatch(/^published drops/);
    expect(reasonFor(now, 'drops/*/latest.json')).toMatch(/latest\.json pointer/);
    expect(reasonFor(now, 'drops/_runs/*')).toMatch(/run records/);
    expect(reasonFor(now, 'drops/_deliveries/*')).toMatch(/destinations/);
    expect(reasonFor(now, '_athena-results/*')).toMatch(/^Athena query results/);
  });

  it('do not explain a key wildcard the layout has no pattern for', () => {
    const now = load();
    for (const p of ['drops/*', 'drops/_other/*', 'drops/*/slot=*/*', 'drops/*/latest.json.bak']) expect([p, reasonFor(now, p)]).toEqual([p, undefined]);
  });

  it("explain the construct's own staging tables, feed topics and partner secrets, not another's", () => {
    const now = load();
    const arn = (service: string, resource: string) => `Resource::arn:<AWS::Partition>:${service}:eu-west-1:123456789012:${resource}`;
    expect(reasonOf(now, arn('glue', 'table/shop_exchange_staging/*'))).toMatch(/^staging tables/);
    expect(reasonOf(now, arn('glue', 'table/shop_exchange_staging/dropkit_diff_*'))).toMatch(/Athena diff/);
    expect(reasonOf(now, arn('sns', 'shop-exchange-feed-*'))).toBe('the feed topics: one per feed, named shop-exchange-feed-<feed>');
    expect(reasonOf(now, arn('secretsmanager', 'secret:dropkit/shop-exchange/partners/*'))).toMatch(/^one key-hash secret per partner/);
    for (const other of [
      arn('glue', 'table/other_staging/*'),
      arn('glue', 'table/other_staging/dropkit_diff_*'),
      arn('sns', 'other-feed-*'),
      arn('secretsmanager', 'secret:dropkit/other/partners/*'),
    ])
      expect([other, reasonOf(now, other)]).toEqual([other, undefined]);
  });

  it('move with the layout: renamed folders are explained, and the old names no longer are', () => {
    const renamed = load(() => ({
      pattern: {
        dropFiles: (prefix: string) => `${under(prefix)}*/s=*/attempt=*/*`,
        latest: (prefix: string) => `${under(prefix)}*/current.json`,
        leases: (prefix: string) => `${under(prefix)}.locks/*`,
        runs: (prefix: string) => `${under(prefix)}.records/*`,
        sla: (prefix: string) => `${under(prefix)}.sla/*`,
        approvals: (prefix: string) => `${under(prefix)}.holds/*`,
        staging: (prefix: string) => `${under(prefix)}.tmp/*`,
        deliveries: (prefix: string) => `${under(prefix)}.pushed/*`,
        everything: (prefix: string) => `${under(prefix)}*`,
        athenaResults: () => '.athena/*',
      },
    }));
    const patterns = grantedPatterns(renamed, 'drops');
    expect(patterns).toContain('drops/*/s=*/attempt=*/*');
    for (const p of patterns) expect([p, reasonFor(renamed, p)]).toEqual([p, expect.stringMatching(/.{30}/)]);
    for (const old of ['drops/*/slot=*/run=*/*', 'drops/*/latest.json', 'drops/_runs/*', 'drops/_deliveries/*', '_athena-results/*'])
      expect([old, reasonFor(renamed, old)]).toEqual([old, undefined]);
  });
});
