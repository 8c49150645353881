import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writerIsDead, writerTag } from '../../lib/adapters/local/process-identity';
import { removeDeadLeftovers } from '../../lib/runner/leftovers';
import { localContext } from '../../lib/cli/local-context';
import { loadProject } from '../../lib/project/load-project';
import { runSlot } from '../../lib/runner/run-slot';
import { baseProject, BaseProject, localStoreOf, NOW, SLOT_16 } from '../helpers/protocol-fixture';

/** A process id that was running a moment ago and is not any more. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

const ns = () => writerTag().split('-')[1];

function put(file: string, text = 'half written'): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** Papercuts of issue 14: what a killed writer leaves goes with the next run, not 15 minutes (or never) later. */
describe('what a killed writer left in the store', () => {
  let base: BaseProject;
  beforeAll(async () => {
    base = await baseProject({ deliverSlot14: false });
  });
  afterAll(() => base.cleanup());

  it("the next run removes a dead writer's fresh temp files, their emptied folders, its lock files and engine folder at once, and leaves a live or foreign writer's alone", async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    const dead = await deadPid();
    const stagingFolder = join(local.root, '_staging/daily-r1-killed/attempt1');
    const deadTemp = put(join(stagingFolder, `.tmp-${dead}-${ns()}-0123456789abcdef`));
    const deadLock = put(join(local.root, '_leases/daily/slot=20240115T060000Z.json.lock'), `${dead}-${ns()}-0011223344556677`);
    const liveTemp = put(join(local.root, `_staging/live/.tmp-${writerTag()}-fedcba9876543210`));
    const deadScratch = put(join(local.root, `_work/duckdb-${dead}-${ns()}-AbC123/engine.duckdb`));
    const foreignScratch = put(join(local.root, `_work/duckdb-${dead}-${ns() === 'ffffffff' ? 'eeeeeeee' : 'ffffffff'}-AbC123/engine.duckdb`));
    const foreignTemp = put(join(local.root, `_staging/foreign/.tmp-${dead}-${ns() === 'ffffffff' ? 'eeeeeeee' : 'ffffffff'}-aaaaaaaaaaaaaaaa`));

    // The next run, as `dropkit run` wires it.
    const { deps } = localContext(loadProject(dir), { console: false, now: NOW });
    expect((await runSlot({ feed: 'daily', partner: null, slot: new Date(SLOT_16) }, deps)).status).toBe('delivered');
    expect([deadTemp, deadLock, deadScratch].filter(existsSync)).toEqual([]);
    expect(existsSync(join(local.root, '_staging/daily-r1-killed'))).toBe(false);
    // Another container's engine folder (its pid names nothing here) stays, as do live and foreign temp files.
    expect([liveTemp, foreignTemp, foreignScratch].filter(existsSync)).toEqual([liveTemp, foreignTemp, foreignScratch]);
  });

  it('a conditional write does not wait for a lock whose writer died: it breaks it at once', async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    const dead = await deadPid();
    const key = '_leases/daily/slot=20240116T060000Z.json';
    const { etag } = await local.put(key, '[]');
    const lock = put(local.localPath(key) + '.lock', `${dead}-${ns()}-0011223344556677`);
    // Untouched for seconds only: without knowing its writer died, the store would wait a minute (and give up first).
    await local.put(key, '{}', { precondition: { ifMatch: etag } });
    expect(existsSync(lock)).toBe(false);
    expect((await local.get(key))!.body.toString()).toBe('{}');
  });

  it('tells a dead writer only by a name of its own namespace', async () => {
    const dead = await deadPid();
    expect(writerIsDead(`.tmp-${dead}-${ns()}-0123456789abcdef`)).toBe(ns() !== 'x');
    expect(writerIsDead(`.tmp-${process.pid}-${ns()}-0123456789abcdef`)).toBe(false);
    expect(writerIsDead(`.tmp-0123456789abcdef`)).toBe(false); // older names: judged by age only
    expect(await removeDeadLeftovers('/nonexistent', undefined, () => false)).toEqual([]);
  });
});
