import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import { FileExchange } from '../../lib/cdk/file-exchange';
import { DeployConfigError } from '../../lib/cdk/errors';
import { loadProject } from '../../lib/project/load-project';
import { EXAMPLE, testApp } from './cdk-app';

const CFN_MAX_RESOURCES = 500;
const CFN_MAX_TEMPLATE_BYTES = 1_000_000;

/** `n` feeds made from the example's feeds, renamed feed_000 …; every partner id from the example. */
function manyFeeds(n: number): FeedDefinition[] {
  const base = loadProject(EXAMPLE, { localSources: false }).feeds;
  return Array.from({ length: n }, (_, i) => {
    const f = base[i % base.length];
    const name = `feed_${String(i).padStart(3, '0')}`;
    return { ...f, file: `feeds/${name}.yaml`, spec: { ...f.spec, name } };
  });
}

type Props = Partial<ConstructorParameters<typeof FileExchange>[2]>;

/** The construct only, not synthesized: where the size estimate refuses a project. */
function build(feeds: FeedDefinition[], props: Props = {}) {
  const stack = new Stack(testApp(), 'Big', { env: { account: '123456789012', region: 'eu-west-1' } });
  return { stack, exchange: new FileExchange(stack, 'Exchange', { feeds, ...props }) };
}

function synth(feeds: FeedDefinition[], props: Props = {}) {
  const { stack, exchange } = build(feeds, props);
  const nested = exchange.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack);
  const measure = (s: Stack) => {
    const t = Template.fromStack(s).toJSON();
    return { resources: Object.keys(t.Resources).length, bytes: Buffer.byteLength(JSON.stringify(t)) };
  };
  return { main: measure(stack), nested: nested.map(measure), nestedStacks: nested, stack };
}

describe('a project with many feeds', () => {
  it('synthesizes 200 feeds within CloudFormation limits, the per-feed resources split into nested stacks', () => {
    const { main, nested } = synth(manyFeeds(200));
    expect(main.resources).toBeLessThan(CFN_MAX_RESOURCES);
    expect(main.bytes).toBeLessThan(CFN_MAX_TEMPLATE_BYTES);
    expect(nested).toHaveLength(2);
    for (const n of nested) {
      expect(n.resources).toBeLessThan(CFN_MAX_RESOURCES);
      expect(n.bytes).toBeLessThan(CFN_MAX_TEMPLATE_BYTES);
    }
    // Each feed: a schedule, a topic and its TLS-only policy.
    expect(nested.map((n) => n.resources)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(nested[0].resources).toBeGreaterThanOrEqual(3 * 120);
  });

  it('keeps up to 40 feeds in the one stack', () => {
    const { main, nested } = synth(manyFeeds(40));
    expect(nested).toHaveLength(0);
    expect(main.resources).toBeLessThan(CFN_MAX_RESOURCES);
  });

  it('refuses, saying what to change, a project that would not fit in one stack', () => {
    expect(() => build(manyFeeds(200), { inlineFeedLimit: 200 })).toThrow(DeployConfigError);
    expect(() => build(manyFeeds(200), { inlineFeedLimit: 200 })).toThrow(
      /about \d+ resources for 200 feeds and 3 partners, over CloudFormation's 500 per stack with margin; lower inlineFeedLimit/,
    );
    expect(() => build(manyFeeds(991))).toThrow(/991 feeds is more than one bucket's lifecycle rules allow \(990\); split the project/);
  });

  it('keeps the main stack within limits at the inline maximum the estimate allows', () => {
    // The estimate refuses before CloudFormation would: find the largest inline project it accepts and check the real count.
    let largest = 0;
    for (let n = 40; n <= 200; n += 10) {
      try {
        build(manyFeeds(n), { inlineFeedLimit: n });
        largest = n;
      } catch (e) {
        if (!(e instanceof DeployConfigError)) throw e;
        break;
      }
    }
    expect(largest).toBeGreaterThanOrEqual(100);
    const { main } = synth(manyFeeds(largest), { inlineFeedLimit: largest });
    expect(main.resources).toBeLessThan(CFN_MAX_RESOURCES);
  });
});
