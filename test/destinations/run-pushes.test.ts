import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dropkit } from '../helpers/cli';
import { DAILY_SQL, dailyFeed, eventsSelect, PROJECT_YAML, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

const DESTINATION = `destinations:
  - type: local
    name: inbox
    path: inbox
`;
const RUN = ['--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z', '--json'];

describe('dropkit run pushes a delivered drop to its destinations', () => {
  let p: TempProject;
  beforeAll(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed('daily', DESTINATION), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterAll(() => p.cleanup());

  it('copies the drop, manifest last, records the push in the run record, and a later run of the slot does not push it again', async () => {
    const r = await dropkit(['run', 'daily', '--project', p.dir, ...RUN]);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout).runs?.[0] ?? JSON.parse(r.stdout);
    const folder = join(p.dir, 'inbox', 'daily', 'slot=20240115T060000Z', `run=${run.runId}`);
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as { files: { path: string }[] };
    for (const f of manifest.files) expect(existsSync(join(folder, f.path))).toBe(true);
    const record = JSON.parse(readFileSync(join(p.dir, 'out', '_runs', 'daily', 'slot=20240115T060000Z', `${run.runId}.json`), 'utf8'));
    expect(record.destinations).toEqual([expect.objectContaining({ destination: 'inbox', status: 'delivered', files: manifest.files.length + 1 })]); // the data files and the manifest

    expect(record.destinations[0].units.at(-1)).toBe('manifest.json');

    // The partner's copy lost: the next run of the slot (already delivered) does not push again on its own…
    rmSync(join(p.dir, 'inbox'), { recursive: true });
    const again = await dropkit(['run', 'daily', '--project', p.dir, ...RUN]);
    expect(again.code).toBe(0);
    // …because the record says the destination has it: pushes resume, they do not repeat.
    expect(existsSync(folder)).toBe(false);
  });
});
