import { join } from 'node:path';
import { Readable } from 'node:stream';
import { flattenCfn } from '../../lib/cdk/acknowledgements';
import { KeyScopes, keyScopes } from '../../lib/cdk/key-scopes';
import { DEFAULT_KEY_PREFIX } from '../../lib/core/deploy-contract';
import { baseKey, deliveryPrefix, deliveryRecordKey } from '../../lib/core/destinations/delivery-keys';
import {
  ATHENA_RESULTS_PREFIX,
  latestKey,
  leaseKey,
  manifestKey,
  parseStoreKey,
  runRecordKey,
  slaStateKey,
  stagingPrefix,
  StoreKeyKind,
} from '../../lib/core/layout';
import type { ObjectStore } from '../../lib/core/ports/object-store';
import { exampleStack, templateOf } from '../cdk/cdk-app';
import { runIn } from '../helpers/protocol-fixture';
import { DAILY_SQL, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

/** A store that remembers every key written to it (put, or the target of a move). */
function recording(store: ObjectStore, written: Set<string>): ObjectStore {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name === 'put') return (key: string, body: Buffer | string | Readable, options?: object) => (written.add(key), target.put(key, body, options));
      if (name === 'move') return (from: string, to: string) => (written.add(to), target.move(from, to));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** IAM's object-key glob: `*` is any run of characters, `/` included. */
const globMatches = (glob: string, key: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(key);

/** The key scope that grants each kind of object. */
const SCOPE_OF: Record<StoreKeyKind, (s: KeyScopes) => string> = {
  'drop-file': (s) => s.dropFiles,
  manifest: (s) => s.dropFiles,
  latest: (s) => s.latest,
  lease: (s) => s.leases,
  'run-record': (s) => s.runs,
  approval: (s) => s.approvals,
  'sla-state': (s) => s.sla,
  staging: (s) => s.staging,
  delivery: (s) => s.deliveries,
  'athena-result': (s) => s.results,
};

describe('the store layout (lib/core/layout.ts)', () => {
  const prefix = DEFAULT_KEY_PREFIX;
  const scopes = keyScopes(prefix);
  let project: TempProject;
  const written = new Set<string>();

  beforeAll(async () => {
    project = tempProject({
      'dropkit.yaml': `name: test\nprefix: ${prefix}\nsources:\n  events: data/events.parquet\n`,
      'feeds/daily.yaml': dailyFeed('daily', 'retention:\n  days: 1\n'),
      'feeds/daily.sql': DAILY_SQL,
    });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
    // Two slots a retention apart: the second run also expires the first drop.
    for (const [slot, now] of [
      ['2024-01-14T06:00:00Z', '2024-01-14T07:00:00Z'],
      ['2024-01-16T06:00:00Z', '2024-01-16T07:00:00Z'],
    ]) {
      const outcome = await runIn(project.dir, { slot, now, store: (local) => recording(local, written) });
      expect(outcome.status).toBe('delivered');
    }
  });
  afterAll(() => project.cleanup());

  /** Every kind of key: what a local run wrote, and those of the steps that run elsewhere (SLA watch, destinations, Athena). */
  const allKeys = () => {
    const c = { prefix, feed: 'daily', partner: 'acme' };
    const ref = { ...c, slot: '20240116T060000Z', runId: 'r1', manifestKey: manifestKey(c, '20240116T060000Z', 'r1') };
    return [
      ...written,
      latestKey(c),
      leaseKey(c, ref.slot),
      runRecordKey(c, ref.slot, ref.runId),
      slaStateKey(c, ref.slot),
      stagingPrefix(prefix, 'r1', 'a1') + 'staged.parquet',
      deliveryRecordKey(ref, 'inbox'),
      deliveryPrefix(ref, 'inbox') + 'dead-letter.jsonl',
      baseKey(ref, 'inbox'),
      `${ATHENA_RESULTS_PREFIX}q-1.csv`,
    ];
  };

  it('a local run writes drops, manifests, the pointer, leases and run records, each a key the layout parses', () => {
    const kinds = new Set([...written].map((k) => parseStoreKey(k, prefix)?.kind));
    // (Staging is written by the engine itself: DuckDB to its scratch folder, Athena by CTAS.)
    expect([...kinds].sort()).toEqual(['drop-file', 'latest', 'lease', 'manifest', 'run-record']);
    expect([...written].filter((k) => !parseStoreKey(k, prefix))).toEqual([]);
  });

  it('gives every key a kind and an IAM pattern (lib/cdk/key-scopes.ts) that covers it', () => {
    const uncovered = allKeys().filter((k) => {
      const kind = parseStoreKey(k, prefix)?.kind;
      return !kind || !globMatches(SCOPE_OF[kind](scopes), k);
    });
    expect(uncovered).toEqual([]);
  });

  it('has the deployed roles granted PutObject on the pattern of every key the AWS pipeline writes', () => {
    const template = templateOf(exampleStack()).toJSON();
    const puts = new Set<string>();
    for (const policy of Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::IAM::Policy'))
      for (const s of policy.Properties.PolicyDocument.Statement)
        if (s.Effect === 'Allow' && [].concat(s.Action).some((a: string) => a === 's3:PutObject' || a === 's3:PutObject*'))
          for (const r of [].concat(s.Resource)) puts.add(flattenCfn(r).replace(/^<[^>]+>\//, ''));
    // Destinations push from the local runner only: the deployed pipeline has no grant there.
    const deployed = allKeys().filter((k) => parseStoreKey(k, prefix)?.kind !== 'delivery');
    const ungranted = deployed.filter((k) => ![...puts].some((glob) => globMatches(glob, k)));
    expect(ungranted).toEqual([]);
  });

  it('has no place for a key outside it', () => {
    for (const key of ['drops/Daily/latest.json', 'drops/daily/slot=2024-01-16/run=r/x.csv', 'other/daily/latest.json', 'drops/_leases/daily/x.json'])
      expect([key, parseStoreKey(key, prefix)]).toEqual([key, undefined]);
  });
});
