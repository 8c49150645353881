import { existsSync, readdirSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../../lib/core/run-record';
import { startDropkit } from '../helpers/child-dropkit';
import { listKeys, readJson } from '../helpers/local-run';
import { leftoverProblems, outboxEvents, settledProblems, storeProblems } from '../helpers/protocol-audit';
import { baseProject, BaseProject, localStoreOf, NOW, plainFeed, SLOT_16 } from '../helpers/protocol-fixture';

/** Slow enough to be caught in each step: a few hundred milliseconds to stage and to render. */
const SLOW_SQL = 'SELECT range AS i, md5(range::VARCHAR) AS h FROM range(600000)\n';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `seen()` is true; false if the child ended or the time ran out first. */
async function waitFor(seen: () => boolean, ended: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (seen()) return true;
    if (ended()) return false;
    await sleep(2);
  }
  return false;
}

function scratchOf(out: string, pid: number): string | undefined {
  const work = join(out, '_work');
  const name = existsSync(work) ? readdirSync(work).find((n) => n.startsWith(`duckdb-${pid}-`)) : undefined;
  return name && join(work, name);
}

function manifestsUnder(out: string): string[] {
  const slot = join(out, 'daily', 'slot=20240116T060000Z');
  if (!existsSync(slot)) return [];
  return readdirSync(slot).filter((run) => existsSync(join(slot, run, 'manifest.json')));
}

const RUN_ARGS = (dir: string) => ['run', 'daily', '--project', dir, '--slot', SLOT_16, '--json', '--now', NOW];

describe('a run killed with SIGKILL, then run again', () => {
  let base: BaseProject;
  beforeAll(async () => {
    base = await baseProject({ feed: plainFeed(1), sql: SLOW_SQL, deliverSlot14: false });
  });
  afterAll(() => base.cleanup());

  /** Starts a run, kills it the moment `when` holds, and returns what it left. */
  async function killedRun(when: (out: string, pid: number) => boolean) {
    const dir = base.copy();
    const out = join(dir, 'out');
    const run = startDropkit(RUN_ARGS(dir), 30_000);
    let ended = false;
    void run.done.then(() => (ended = true));
    const caught = await waitFor(
      () => when(out, run.pid),
      () => ended,
      20_000,
    );
    run.child.kill('SIGKILL');
    // What the run had reached when it was killed (it can get no further now).
    const scratch = scratchOf(out, run.pid);
    const exporting = !!scratch && existsSync(scratch) && readdirSync(scratch).some((n) => n.startsWith('export-'));
    const result = await run.done;
    return { dir, out, pid: run.pid, caught, exporting, result, local: localStoreOf(dir) };
  }

  /**
   * The next run, as a user would start it; then everything must be settled. Temp files the killed
   * run left are first made an hour old: younger ones could be a live writer's, and stay.
   */
  async function runAgain(dir: string) {
    ageTempFiles(join(dir, 'out'));
    const next = await startDropkit(RUN_ARGS(dir), 30_000).done;
    return { code: next.code, outcome: JSON.parse(next.stdout) as { status: string; runId: string } };
  }

  it('killed while staging: nothing visible, and the next run delivers once and removes the dead engine scratch folder and old temp files', async () => {
    const k = await killedRun((out, pid) => {
      const scratch = scratchOf(out, pid);
      return !!scratch && existsSync(join(scratch, 'engine.duckdb')) && (listStaging(out).length > 0 || false);
    });
    expect(k.caught).toBe(true);
    expect(k.exporting).toBe(false); // still staging: nothing rendered yet
    expect(k.result.signal).toBe('SIGKILL');
    expect(manifestsUnder(k.out)).toEqual([]);
    expect(scratchOf(k.out, k.pid)).toBeDefined(); // the dead engine's folder is there…
    expect(await storeProblems(k.local, { leftovers: false, orphans: false })).toEqual([]);

    // …and so are temp files of writers that died long ago, beside one a live writer is writing now.
    const old = [join(k.out, 'daily', '.tmp-deadbeef00000001'), join(k.out, '_staging', '.tmp-deadbeef00000002')];
    const fresh = join(k.out, '.tmp-live0000000000');
    for (const f of [...old, fresh]) {
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, 'half written');
    }
    const longAgo = new Date(Date.now() - 60 * 60_000);
    for (const f of old) utimesSync(f, longAgo, longAgo);

    const next = await runAgain(k.dir);
    expect(next).toMatchObject({ code: 0, outcome: { status: 'delivered' } });
    expect(scratchOf(k.out, k.pid)).toBeUndefined();
    expect(old.filter((f) => existsSync(f))).toEqual([]);
    expect(existsSync(fresh)).toBe(true); // younger than the cutoff: it may be a live writer's
    expect((await leftoverProblems(k.local)).filter((p) => !p.includes('.tmp-live'))).toEqual([]);
    expect(await storeProblems(k.local, { leftovers: false })).toEqual([]);
    expect(await settledProblems(k.local)).toEqual([]);
  });

  it('killed while rendering: nothing visible, and the next run delivers once with true records and no leftovers', async () => {
    const k = await killedRun((out, pid) => {
      const scratch = scratchOf(out, pid);
      return !!scratch && readdirSync(scratch).some((n) => n.startsWith('export-'));
    });
    expect(k.caught).toBe(true);
    expect(k.result.signal).toBe('SIGKILL');
    expect(manifestsUnder(k.out)).toEqual([]);
    expect(await storeProblems(k.local, { leftovers: false, orphans: false })).toEqual([]);
    const next = await runAgain(k.dir);
    expect(next).toMatchObject({ code: 0, outcome: { status: 'delivered' } });
    expect(await storeProblems(k.local)).toEqual([]);
    expect(await settledProblems(k.local)).toEqual([]);
  });

  it('killed right after its manifest appeared: the drop is complete, and the next run says already delivered, finishes the run and sends the notice once', async () => {
    const k = await killedRun((out) => manifestsUnder(out).length > 0);
    expect(k.caught).toBe(true);
    expect(k.result.signal).toBe('SIGKILL');
    expect(manifestsUnder(k.out)).toHaveLength(1);
    expect(await storeProblems(k.local, { leftovers: false })).toEqual([]);
    const runId = manifestsUnder(k.out)[0].slice('run='.length);
    const record = await readJson<RunRecord>(k.local, `_runs/daily/slot=20240116T060000Z/${runId}.json`);
    // Killed between sending the notice and recording it: the one window where it goes twice (same id).
    const window = !record.noticeSent && outboxEvents(k.local).some((e) => e.type === 'drop.delivered');

    const next = await runAgain(k.dir);
    expect(next).toMatchObject({ code: 0, outcome: { status: 'already-delivered', runId } });
    expect(await storeProblems(k.local)).toEqual([]);
    expect(await settledProblems(k.local, { atLeastOnce: window })).toEqual([]);
    expect(await listKeys(k.local, 'daily/slot=20240116T060000Z/')).toHaveLength(3); // one drop: manifest, CSV, Parquet
  });
});

function listStaging(out: string): string[] {
  const root = join(out, '_staging');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true }).map(String);
}

/** Sets every `.tmp-*` file under `root` an hour back, as if its writer had died that long ago. */
function ageTempFiles(root: string): string[] {
  const aged: string[] = [];
  const hourAgo = new Date(Date.now() - 60 * 60_000);
  for (const rel of readdirSync(root, { recursive: true }).map(String)) {
    if (!rel.split('/').pop()!.startsWith('.tmp-') || rel.includes('.tmp-live')) continue;
    utimesSync(join(root, rel), hourAgo, hourAgo);
    aged.push(rel);
  }
  return aged;
}
