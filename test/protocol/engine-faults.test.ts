import type { QueryEngine } from '../../lib/core/ports/query-engine';
import type { RunOutcome } from '../../lib/runner/run-slot';
import { outboxEvents, settledProblems, storeProblems } from '../helpers/protocol-audit';
import { baseProject, BaseProject, localStoreOf, runIn, within } from '../helpers/protocol-fixture';
import { listKeys } from '../helpers/local-run';

type EngineMethod = 'compileStage' | 'execute' | 'describeStage' | 'query' | 'exportCsv' | 'exportParquet' | 'dropStaged' | 'close';

/** The engine, with `method` throwing on its first call (after doing its work when `after`). */
function failing(method: EngineMethod, after = false): (engine: QueryEngine) => QueryEngine {
  return (engine) =>
    new Proxy(engine, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== method || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        let calls = 0;
        return async (...args: unknown[]) => {
          if (calls++ > 0) return value.apply(target, args);
          if (after) await value.apply(target, args);
          throw new Error(`injected engine fault in ${method}`);
        };
      },
    });
}

/**
 * The run is broken at each step boundary by its engine throwing: in stage (compile, run,
 * describe), in validate (the check query), in render (either export), and after the commit
 * point (dropping the staged rows, closing the engine).
 */
describe('a run whose engine fails at a step boundary', () => {
  let base: BaseProject;
  beforeAll(async () => {
    base = await baseProject();
  });
  afterAll(() => base.cleanup());

  async function broken(method: EngineMethod, after = false) {
    const dir = base.copy();
    const local = localStoreOf(dir);
    const outcome: RunOutcome | Error = await within(20_000, method, runIn(dir, { engine: failing(method, after) })).catch((e: Error) => e);
    const drops = (await listKeys(local, 'daily/slot=20240116T060000Z/')).filter((k) => k.endsWith('manifest.json'));
    const right = await storeProblems(local, { leftovers: drops.length === 0 });
    const events = outboxEvents(local);
    const next = await within(20_000, 'next run', runIn(dir));
    const settled = [...(await storeProblems(local)), ...(await settledProblems(local, { gone: [base.slot14RunId] }))];
    return { outcome, drops, right, events, next, settled };
  }

  it.each([
    ['compileStage', 'stage'],
    ['execute', 'stage'],
    ['describeStage', 'stage'],
    ['exportCsv', 'render'],
    ['exportParquet', 'render'],
  ] as const)('a throw from %s fails the run at %s, leaves no trace of it, and the next run delivers with one notice', async (method, step) => {
    const r = await broken(method, method === 'execute');
    expect(r.outcome).toMatchObject({ status: 'failed', manifestKey: null, error: { step, message: `injected engine fault in ${method}` } });
    expect(r.drops).toEqual([]);
    expect(r.right).toEqual([]);
    expect(r.events.map((e) => e.type)).toEqual(['drop.delivered', 'run.failed']); // slot 14's notice, then this failure
    expect(r.next.status).toBe('delivered');
    expect(r.settled).toEqual([]);
  });

  it('a check query that throws is recorded as an error of the check, blocks publishing, and leaves no trace', async () => {
    const r = await broken('query');
    expect(r.outcome).toMatchObject({ status: 'validation-failed', error: { step: 'validate' } });
    const outcome = r.outcome as RunOutcome;
    expect(outcome.validation?.checks.some((c) => c.outcome === 'error' && /injected engine fault/.test(c.message))).toBe(true);
    expect(r.drops).toEqual([]);
    expect(r.right).toEqual([]);
    expect(r.next.status).toBe('delivered');
    expect(r.settled).toEqual([]);
  });

  it.each(['dropStaged', 'close'] as const)('a throw from %s after the manifest is written still ends the run delivered, announced once', async (method) => {
    const r = await broken(method, method === 'close'); // close does close, then throws
    expect(r.outcome).toMatchObject({ status: 'delivered' });
    expect(r.drops).toHaveLength(1);
    expect(r.right).toEqual([]);
    expect(r.events.filter((e) => e.type === 'run.failed')).toEqual([]);
    expect(r.next.status).toBe('already-delivered');
    expect(r.settled).toEqual([]);
  });
});
