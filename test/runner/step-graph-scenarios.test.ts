import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { destinationFactory } from '../../lib/adapters/destinations/destination-factory';
import { pushDrop } from '../../lib/core/destinations/push-drop';
import { QueryFailedError } from '../../lib/core/errors';
import { NOTICE_NOT_SENT, NodeName, PUSH_INCOMPLETE, RunStatus } from '../../lib/core/graph/step-graph';
import { planStep } from '../../lib/core/steps/plan-step';
import { fixedClock } from '../../lib/core/ports/clock';
import type { DropEvent, Notifier, NotifyOutcome } from '../../lib/core/ports/notifier';
import type { ObjectStore } from '../../lib/core/ports/object-store';
import type { QueryEngine } from '../../lib/core/ports/query-engine';
import { nodeOfState } from '../../lib/cdk/pipeline-definition';
import type { LambdaDeps } from '../../lambdas/runtime';
import { decideSlot, runSlot } from '../../lib/runner/run-slot';
import { makeApproveHandler } from '../../lambdas/approve';
import { makeLinkBrokerHandler } from '../../lambdas/link-broker';
import { exampleStack } from '../cdk/cdk-app';
import { deployedDefinition } from '../cdk/state-machine-definition';
import { executeDefinition, named, partnerRunDefinition, TASK_TOKEN } from '../cdk/state-machine-harness';
import { listKeys } from '../helpers/local-run';
import { DAILY_SQL, dailyFeed } from '../helpers/temp-project';
import { lambdaProject, LambdaProject } from '../lambdas/lambda-project';

/**
 * One scenario table, two paths: the local runner (which interprets the step graph) and the
 * deployed state machine (compiled from it) run in aws-local-stepfunctions with the real step
 * handlers. Each scenario runs on a fresh project per path, with the same faults injected into
 * the same store and engine, and must give the same graph nodes, the same store contents (modulo
 * attempt ids and Athena's execution facts) and the same notices to the same consumers.
 */

type Fault = 'stage' | 'render' | 'manifest-before' | 'manifest-after' | 'notify' | 'lease-lost' | 'push' | 'push-lease-lost';

interface Scenario {
  readonly name: string;
  readonly feed: 'daily' | 'statements' | 'pushed';
  readonly slot: string;
  readonly rerun?: boolean;
  readonly dupes?: boolean;
  readonly fault?: Fault;
  readonly setup?: (w: World) => Promise<void>;
  /** The feed asks for sign-off of its first drop; the approver's decision (or the timeout) once it is held. */
  readonly approval?: 'approved' | 'rejected' | 'timed-out';
  /** Per partner run: its status and the nodes it went through. */
  readonly expect: { readonly status: RunStatus; readonly trail: readonly NodeName[]; readonly alerts?: readonly string[] };
}

const SLOT = '2024-01-15T06:00:00Z';
const HAPPY: NodeName[] = ['plan', 'stage', 'validate', 'render', 'approve', 'publish', 'push', 'notify'];
const APPROVAL_YAML = 'approval:\n  when: [first]\n  approvers: [owner@shop.example]\n  timeout: PT8H\n';
const APPROVER = 'owner@shop.example';

/** A feed pushed to two folders (the partner's inbox and an archive): the same drop, both paths. */
const PUSHED_FEED = dailyFeed(
  'pushed',
  'partners:\n  - id: acme\ndestinations:\n  - { type: local, name: inbox, path: out-inbox }\n  - { type: local, name: archive, path: out-archive }\n',
);

class Recorder implements Notifier {
  readonly events: DropEvent[] = [];
  constructor(
    readonly target: string,
    private readonly world: { fault?: Fault },
  ) {}
  async notify(event: DropEvent): Promise<NotifyOutcome> {
    if (this.world.fault === 'notify' && this.target === 'consumers') throw new Error('the consumer endpoint is down');
    this.events.push(event);
    return { target: this.target, status: 'sent', attempts: 1 };
  }
}

interface World {
  readonly p: LambdaProject;
  readonly deps: LambdaDeps;
  readonly consumers: Recorder;
  readonly operators: Recorder;
  fault?: Fault;
  /** Seconds the scenario moved the project's clock on (a step that took long). */
  skew: number;
}

/** The project's store and engine with the scenario's fault, the same for both paths. */
async function world(dupes: boolean, approval = false): Promise<World> {
  const p = await lambdaProject({
    dupes,
    dailyExtra: approval ? APPROVAL_YAML : '',
    files: { 'feeds/pushed.yaml': PUSHED_FEED, 'feeds/pushed.sql': DAILY_SQL },
  });
  const w = { p, skew: 0 } as { -readonly [K in keyof World]: World[K] };
  const clock = { now: () => new Date(p.deps.clock.now().getTime() + w.skew * 1000) };
  w.consumers = new Recorder('consumers', w);
  w.operators = new Recorder('operators', w);
  const store: ObjectStore = new Proxy(p.store, {
    get(target, prop, receiver) {
      if (prop === 'put')
        return async (key: string, ...rest: unknown[]) => {
          const manifest = key.endsWith('/manifest.json');
          if (manifest && w.fault === 'manifest-before') throw Object.assign(new Error('S3 refused the manifest'), { name: 'StoreWriteError' });
          const out = await (target.put as (...a: unknown[]) => Promise<unknown>).call(target, key, ...rest);
          // Written, but the answer is lost (a timeout after the commit point).
          if (manifest && w.fault === 'manifest-after')
            throw Object.assign(new Error('the answer to the manifest write was lost'), { name: 'StoreAnswerLost' });
          return out;
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const engine: QueryEngine = new Proxy(p.deps.engine, {
    get(target, prop, receiver) {
      if (prop === 'execute' && w.fault === 'stage')
        return async () => Promise.reject(new QueryFailedError('the extract query failed: TABLE_NOT_FOUND events'));
      if (prop === 'exportParquet' && w.fault === 'render') return async () => Promise.reject(new Error('the Parquet export failed: disk full'));
      if (prop === 'exportParquet' && w.fault === 'lease-lost')
        return async (...args: unknown[]) => {
          // A newer attempt takes the slot over while this one renders.
          for (const key of await listKeys(p.store, 'drops/_leases/')) {
            const lease = JSON.parse((await p.store.get(key))!.body.toString('utf8'));
            await p.store.put(key, JSON.stringify({ ...lease, attemptId: 'newer', released: false, expiresAt: '2099-01-01T00:00:00.000Z' }));
          }
          return (target.exportParquet as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  // The local edge's push (local folders), with the inbox refusing while the scenario's fault is `push`.
  const build = (feed: { file: string }) => {
    const factory = destinationFactory({ feedFile: feed.file, projectDir: p.temp.dir });
    return (spec: Parameters<typeof factory>[0]) => {
      const d = factory(spec);
      if (spec.name !== 'inbox') return d;
      const deliver = async (input: any, progress: any) => {
        if (w.fault === 'push') throw new Error('the inbox is full');
        if (w.fault === 'push-lease-lost') {
          // The first file stalls past the lease's TTL, and a rerun of the slot takes the slot over meanwhile.
          w.skew += 2 * 3600;
          for (const key of await listKeys(p.store, 'drops/_leases/')) {
            const lease = JSON.parse((await p.store.get(key))!.body.toString('utf8'));
            await p.store.put(key, JSON.stringify({ ...lease, attemptId: 'newer', released: false, expiresAt: '2099-01-01T00:00:00.000Z' }));
          }
        }
        return d.deliver(input, progress);
      };
      return { ...d, deliver };
    };
  };
  const push = (ref: any, feed: any, lease: any) => pushDrop(ref, feed, { store, clock, destinationBuilder: build }, lease);
  w.deps = { ...p.deps, clock, store, engine, consumers: () => [w.consumers], operators: [w.operators], push };
  return w as World;
}

/** Delivers a slot (setup, not compared): the same way on both paths. */
async function deliver(w: World, feed: string, partner: string | null, slot = SLOT): Promise<void> {
  const out = await runSlot({ feed, partner, slot: new Date(slot) }, localDeps(w));
  expect(out.status).toBe('delivered');
}

function localDeps(w: World) {
  // The engine outlives the run: both paths share the project's.
  return { ...w.deps, openEngine: async () => Object.assign(Object.create(w.deps.engine) as QueryEngine, { close: async () => undefined }) };
}

const SCENARIOS: Scenario[] = [
  { name: 'success, shared', feed: 'daily', slot: SLOT, expect: { status: 'delivered', trail: HAPPY } },
  { name: 'success, per partner', feed: 'statements', slot: SLOT, expect: { status: 'delivered', trail: HAPPY } },
  {
    name: 'already delivered, with a dead newer attempt to repair',
    feed: 'daily',
    slot: SLOT,
    setup: async (w) => {
      await deliver(w, 'daily', null);
      // A rerun that died after its plan (its lease long expired) and left a file in its drop folder.
      const dead = await planStep({ feed: 'daily', partner: null, slot: SLOT, rerun: true }, { ...w.deps, clock: fixedClock('2024-01-16T05:00:00Z') });
      if (dead.status !== 'planned') throw new Error('setup: the dead attempt was not planned');
      await w.p.store.put(`${dead.state.plan.keys.drop}part-00000.csv`, 'id\n1\n');
    },
    expect: { status: 'already-delivered', trail: ['plan', 'pushRepaired', 'repair'] },
  },
  { name: 'rerun', feed: 'daily', slot: SLOT, rerun: true, setup: (w) => deliver(w, 'daily', null), expect: { status: 'delivered', trail: HAPPY } },
  {
    name: 'busy',
    feed: 'daily',
    slot: SLOT,
    setup: async (w) => {
      const other = await planStep({ feed: 'daily', partner: null, slot: SLOT }, w.deps);
      expect(other.status).toBe('planned');
    },
    expect: { status: 'busy', trail: ['plan'] },
  },
  { name: 'stage failed', feed: 'daily', slot: SLOT, fault: 'stage', expect: { status: 'failed', trail: ['plan', 'stage', 'failRun'] } },
  {
    name: 'validation failed',
    feed: 'daily',
    slot: '2024-01-16T06:00:00Z',
    dupes: true,
    expect: { status: 'validation-failed', trail: ['plan', 'stage', 'validate', 'failRun'] },
  },
  {
    name: 'render failed',
    feed: 'daily',
    slot: SLOT,
    fault: 'render',
    expect: { status: 'failed', trail: ['plan', 'stage', 'validate', 'render', 'failRun'] },
  },
  {
    name: 'publish failed before the manifest',
    feed: 'daily',
    slot: SLOT,
    fault: 'manifest-before',
    expect: { status: 'failed', trail: ['plan', 'stage', 'validate', 'render', 'approve', 'publish', 'failRun'] },
  },
  {
    name: 'publish failed after the manifest',
    feed: 'daily',
    slot: SLOT,
    fault: 'manifest-after',
    expect: { status: 'delivered', trail: ['plan', 'stage', 'validate', 'render', 'approve', 'publish', 'failRun', 'pushRecovered', 'notifyRecovered'] },
  },
  { name: 'pushed to its destinations', feed: 'pushed', slot: SLOT, expect: { status: 'delivered', trail: HAPPY } },
  {
    name: 'push failed at one destination: delivered, announced, operators alerted',
    feed: 'pushed',
    slot: SLOT,
    fault: 'push',
    expect: { status: 'delivered', trail: HAPPY, alerts: [PUSH_INCOMPLETE] },
  },
  {
    // The push renews the lease as it goes; one file outlasting it lets a rerun take the slot: the push stops, its destinations pending.
    name: 'lease lost to a newer attempt during the push: delivered, announced, the push left pending, operators alerted',
    feed: 'pushed',
    slot: SLOT,
    fault: 'push-lease-lost',
    expect: { status: 'delivered', trail: HAPPY, alerts: [PUSH_INCOMPLETE] },
  },
  {
    name: 'a failed push resumed by the next run of the slot',
    feed: 'pushed',
    slot: SLOT,
    setup: async (w) => {
      w.fault = 'push';
      await deliver(w, 'pushed', null);
    },
    expect: { status: 'already-delivered', trail: ['plan', 'pushRepaired', 'repair'] },
  },
  {
    name: 'a failed push still failing at the next run',
    feed: 'pushed',
    slot: SLOT,
    fault: 'push',
    setup: async (w) => {
      w.fault = 'push';
      await deliver(w, 'pushed', null);
    },
    expect: { status: 'already-delivered', trail: ['plan', 'pushRepaired', 'repair'], alerts: [PUSH_INCOMPLETE] },
  },
  {
    name: 'publish failed after the manifest of a pushed feed',
    feed: 'pushed',
    slot: SLOT,
    fault: 'manifest-after',
    expect: { status: 'delivered', trail: ['plan', 'stage', 'validate', 'render', 'approve', 'publish', 'failRun', 'pushRecovered', 'notifyRecovered'] },
  },
  { name: 'notify failed', feed: 'daily', slot: SLOT, fault: 'notify', expect: { status: 'delivered', trail: HAPPY, alerts: [NOTICE_NOT_SENT] } },
  {
    name: 'lease lost to a newer attempt',
    feed: 'daily',
    slot: SLOT,
    fault: 'lease-lost',
    expect: { status: 'busy', trail: ['plan', 'stage', 'validate', 'render', 'approve', 'publish', 'failRun'] },
  },
  // Sign-off: held at approve (locally the run ends awaiting-approval and the decision resumes it; on
  // AWS the execution waits in AwaitApproval for the broker's SendTaskSuccess, or times out).
  { name: 'held, then approved', feed: 'daily', slot: SLOT, approval: 'approved', expect: { status: 'delivered', trail: HAPPY } },
  {
    name: 'held, then rejected',
    feed: 'daily',
    slot: SLOT,
    approval: 'rejected',
    expect: { status: 'failed', trail: ['plan', 'stage', 'validate', 'render', 'approve', 'failRun'] },
  },
  {
    name: 'held, then timed out',
    feed: 'daily',
    slot: SLOT,
    approval: 'timed-out',
    expect: { status: 'failed', trail: ['plan', 'stage', 'validate', 'render', 'approve', 'failRun'] },
  },
];

interface Result {
  readonly runs: { readonly partner: string | null; readonly status: string; readonly trail: readonly string[]; readonly alerts: readonly string[] }[];
  readonly store: Record<string, unknown>;
  readonly consumers: string[];
  readonly operators: string[];
  /** What the destination folders hold: relative path → SHA-256. */
  readonly pushed: Record<string, string>;
}

function partnersOf(s: Scenario): (string | null)[] {
  return s.feed === 'statements' ? ['acme', 'globex'] : [null];
}

async function runLocal(s: Scenario, w: World): Promise<Result['runs']> {
  const runs: Result['runs'] = [];
  for (const partner of partnersOf(s)) {
    let out = await runSlot({ feed: s.feed, partner, slot: new Date(s.slot), rerun: s.rerun }, localDeps(w));
    const trail = [...(out.trail ?? [])];
    if (s.approval) {
      expect(out.status).toBe('awaiting-approval');
      // `dropkit approve|reject` (or the timeout) resumes the graph at the gate.
      const decision = { feed: s.feed, partner, slot: new Date(s.slot), decision: s.approval, by: APPROVER, reason: 'checked the profile' };
      out = await decideSlot(decision, localDeps(w));
      trail.push(...(out.trail ?? []).slice(1));
    }
    runs.push({ partner, status: out.status, trail, alerts: out.alerts ?? [] });
  }
  return runs;
}

/**
 * AwaitApproval as Step Functions runs it (aws-local-stepfunctions 3.0.0 has no .waitForTaskToken):
 * the approve Lambda keeps the token, then the approver's decision goes through the link broker,
 * whose SendTaskSuccess output becomes the task's result; the timeout is States.Timeout.
 */
function awaitApproval(s: Scenario, w: World) {
  const approve = makeApproveHandler(async () => w.deps);
  return async (input: any) => {
    // The Lambda integration's Parameters: the function and the event it is invoked with.
    expect(input.Payload.taskToken).toBe(TASK_TOKEN);
    await approve(input.Payload);
    if (s.approval === 'timed-out') throw named('States.Timeout', 'the approval timeout passed');
    const sent: { token: string; output: string }[] = [];
    const broker = makeLinkBrokerHandler(async () => ({
      ...w.deps,
      approvals: { clock: w.deps.clock, sendTaskSuccess: async (token: string, output: string) => void sent.push({ token, output }) },
    }));
    const answer = await broker({
      httpMethod: 'POST',
      resource: '/approvals/{feed}/slots/{slot}',
      pathParameters: { feed: s.feed, slot: '20240115T060000Z' },
      body: JSON.stringify({ decision: s.approval === 'approved' ? 'approve' : 'reject', reason: 'checked the profile' }),
      requestContext: { identity: { accountId: '123456789012', userArn: `arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DataOwner/${APPROVER}` } },
    });
    expect(answer.statusCode).toBe(200);
    expect(sent.map((m) => m.token)).toEqual([TASK_TOKEN]);
    return JSON.parse(sent[0].output);
  };
}

let definition: Record<string, any>;

async function runAws(s: Scenario, w: World): Promise<Result['runs']> {
  const runs: Result['runs'] = [];
  // One partner's run as the Map (or a child execution) runs it.
  for (const partner of partnersOf(s)) {
    const input = { feed: s.feed, partner, slot: s.slot, rerun: s.rerun ?? false };
    const out = await executeDefinition(partnerRunDefinition(definition), w.deps, input, s.approval ? { replace: { AwaitApproval: awaitApproval(s, w) } } : {});
    if (out.error) throw out.error;
    const trail: string[] = [];
    for (const state of out.entered) {
      const node = nodeOfState(state);
      if (node && trail[trail.length - 1] !== node) trail.push(node);
    }
    runs.push({ partner, status: out.output.status, trail, alerts: out.alerts.map((a) => a.Message.alert) });
  }
  return runs;
}

/** The store as comparable JSON: attempt ids, Athena's execution facts and etags vary between paths. */
async function snapshot(store: ObjectStore): Promise<Record<string, unknown>> {
  // The manifest's hash varies with the execution facts it holds.
  // (`execution`: a staged table's execution facts, kept in a held drop's state.)
  const VARYING = new Set(['attemptId', 'executionId', 'bytesScanned', 'engineMillis', 'etag', 'manifestSha256', 'execution']);
  // A destination's record counts the manifest's bytes, which vary with its execution facts.
  const isDelivery = (v: object) => 'destination' in v && 'units' in v;
  const scrub = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(scrub)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, VARYING.has(k) || (k === 'bytes' && isDelivery(v)) ? '<varies>' : scrub(x)]))
        : typeof v === 'string'
          ? v.replace(/attempt [0-9a-f]{12}/g, 'attempt <varies>').replace(/\/[^ ]*\/dropkit-project-[A-Za-z0-9]+\//g, '<project>/')
          : v;
  const out: Record<string, unknown> = {};
  // A held drop's state names its attempt in paths and table names: every attempt id the store records is scrubbed.
  const attempts = new Set<string>();
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === 'attemptId' && typeof x === 'string') attempts.add(x);
        else collect(x);
      }
  };
  for (const key of await listKeys(store, '')) if (key.endsWith('.json')) collect(JSON.parse((await store.get(key))!.body.toString('utf8')));
  const unattempt = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(unattempt)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unattempt(x)]))
        : typeof v === 'string'
          ? [...attempts].reduce((t, a) => t.split(a).join('<attempt>'), v)
          : v;
  for (const key of await listKeys(store, '')) {
    const body = (await store.get(key))!.body;
    // A hold on AWS keeps the task token the execution waits with; a local hold has none.
    const { taskToken: _token, ...json } = key.endsWith('.json') ? JSON.parse(body.toString('utf8')) : {};
    out[key] = key.endsWith('.json') ? scrub(unattempt(json)) : createHash('sha256').update(body).digest('hex');
  }
  return out;
}

function folderContents(root: string, folders: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      // A manifest's bytes vary with its execution facts: the test compares it with the store's apart.
      else out[relative(root, path)] = e.name === 'manifest.json' ? '<manifest>' : createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  for (const f of folders) if (existsSync(join(root, f))) walk(join(root, f));
  return out;
}

/** A notice as compared: who, what, and its id (a failure's id names the attempt, which varies). */
function noticeLine(e: DropEvent): string {
  return `${e.partner ?? '-'} ${e.type} ${e.id.replace(/\.[0-9a-f]{12}\.(failed|approval)$/, '.<attempt>.$1')}`;
}

async function play(s: Scenario, path: 'local' | 'aws'): Promise<Result> {
  const w = await world(Boolean(s.dupes), Boolean(s.approval));
  try {
    await s.setup?.(w);
    w.consumers.events.length = 0;
    w.operators.events.length = 0;
    w.fault = s.fault;
    const runs = path === 'local' ? await runLocal(s, w) : await runAws(s, w);
    w.fault = undefined;
    return {
      runs,
      store: await snapshot(w.p.store),
      consumers: w.consumers.events.map(noticeLine).sort(),
      operators: w.operators.events.map(noticeLine).sort(),
      pushed: folderContents(w.p.temp.dir, ['out-inbox', 'out-archive']),
    };
  } finally {
    await w.p.close();
  }
}

describe('one step graph, two paths: the scenario table', () => {
  beforeAll(() => {
    definition = deployedDefinition(exampleStack());
  });
  beforeEach(() => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s: the same steps, store and notices locally and on the state machine', async (_name, s) => {
    const local = await play(s, 'local');
    const aws = await play(s, 'aws');
    for (const run of local.runs) {
      expect(run).toMatchObject({ status: s.expect.status, trail: s.expect.trail, alerts: s.expect.alerts ?? [] });
    }
    expect(aws.runs).toEqual(local.runs);
    expect(aws.store).toEqual(local.store);
    expect(aws.consumers).toEqual(local.consumers);
    expect(aws.operators).toEqual(local.operators);
    expect(aws.pushed).toEqual(local.pushed);
    if (s.fault === 'push-lease-lost') {
      // The push stopped after the file under way: no manifest reached a partner, and both destinations are pending in the run record.
      expect(Object.keys(local.pushed).filter((k) => k.endsWith('manifest.json'))).toEqual([]);
      const [record] = Object.entries(local.store).filter(([k]) => k.includes('/_runs/pushed/'));
      expect((record[1] as { pending: string[] }).pending).toEqual([
        expect.stringMatching(/^push: destination inbox failed: SlotBusyError: another run took over this slot/),
        expect.stringMatching(/^push: destination archive failed: SlotBusyError/),
      ]);
    } else if (s.feed === 'pushed' && local.runs[0].status !== 'failed') {
      // Where the push is not failing now, both folders hold the drop with its manifest; where it is, only the archive does.
      const manifests = Object.keys(local.pushed).filter((k) => k.endsWith('manifest.json'));
      expect(manifests.map((k) => k.split('/')[0]).sort()).toEqual(s.fault === 'push' ? ['out-archive'] : ['out-archive', 'out-inbox']);
      const records = Object.entries(local.store).filter(([k]) => /\/_deliveries\/.*\/(inbox|archive)\.json$/.test(k));
      expect(Object.fromEntries(records.map(([k, r]) => [k.split('/').pop(), (r as { status: string }).status]))).toEqual({
        'archive.json': 'delivered',
        'inbox.json': s.fault === 'push' ? 'failed' : 'delivered',
      });
    }
  });
});
