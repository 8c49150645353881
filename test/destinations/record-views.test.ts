import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { destinationLines } from '../../lib/cli/commands/history';
import type { DestinationRecord } from '../../lib/core/ports/destination';
import { dropkit } from '../helpers/cli';
import { DAILY_SQL, dailyFeed, eventsSelect, PROJECT_YAML, tempProject, type TempProject, writeParquet } from '../helpers/temp-project';

const FEED = dailyFeed(
  'daily',
  `destinations:
  - { type: local, name: inbox, path: inbox }
`,
).replace('deliverWithin: PT2H', 'deliverWithin: PT2H\n  deliveredWhen: destinations');
const SLOT = '20240115T060000Z';

interface SlaJson {
  slots: { slot: string; state: string; detail: string; deliveredAt: string | null; latenessSeconds: number | null }[];
}

/** Issue 21: the SLA of a feed that counts delivery at its destinations, and what history says, through the CLI. */
describe('a feed delivered when its destinations have the drop', () => {
  let p: TempProject;
  const sla = async (at: string) => {
    const r = await dropkit(['sla', '--project', p.dir, '--at', at, '--report-only', '--json']);
    return (JSON.parse(r.stdout) as SlaJson).slots.find((s) => s.slot === SLOT)!;
  };

  beforeAll(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': FEED, 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    // A file where the destination folder should be: the push fails.
    writeFileSync(join(p.dir, 'inbox'), 'in the way');
  });
  afterAll(() => p.cleanup());

  it('is at risk, then missed, while a destination failed, naming it and the fix; delivered at the time the repair pushed it', async () => {
    const run = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z', '--json']);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'delivered' });

    const history = await dropkit(['history', 'daily', '--project', p.dir]);
    expect(history.stdout).toMatch(/\n {4}→ inbox \(folder \S*inbox\) {2}failed: .*dropkit repair daily\) {2}at 2024-01-15T07:00:00.000Z/);

    const early = await sla('2024-01-15T07:30:00Z');
    expect(early.state).toBe('AT_RISK');
    expect(early.detail).toMatch(/^published 2024-01-15T07:00:00.000Z, not at its destinations: destination inbox failed: .*dropkit repair daily/);
    expect(early.deliveredAt).toBeNull();
    expect((await sla('2024-01-15T08:30:00Z')).state).toBe('MISSED');

    rmSync(join(p.dir, 'inbox'));
    const repair = await dropkit(['repair', 'daily', '--project', p.dir, '--now', '2024-01-15T08:10:00Z']);
    expect(repair.code).toBe(0);
    const after = await dropkit(['history', 'daily', '--project', p.dir]);
    expect(after.stdout).toMatch(/→ inbox \(folder \S*inbox\) {2}delivered 3 files, .* {2}at 2024-01-15T08:10:00.000Z/);

    const late = await sla('2024-01-15T09:00:00Z');
    expect(late).toMatchObject({
      state: 'LATE',
      deliveredAt: '2024-01-15T08:10:00.000Z',
      latenessSeconds: 600,
      detail: 'at its destinations (inbox) 10 min late',
    });
  });
});

describe('destinationLines (dropkit history)', () => {
  const base: DestinationRecord = {
    destination: 'crm',
    target: 'api https://crm.example/v1/contacts',
    mode: 'upsert',
    status: 'partial',
    units: ['insert:0', 'insert:1'],
    files: 0,
    bytes: 0,
    rowsSent: 7,
    rowsRejected: 3,
    errors: [],
    deadLetter: '_deliveries/daily/slot=20240115T060000Z/r1/crm/dead-letter/',
    startedAt: '2024-01-15T07:00:00.000Z',
    finishedAt: '2024-01-15T07:01:00.000Z',
  };

  it('says rows for an API, files for a folder, and the error and fix for a failure', () => {
    expect(destinationLines([base], 'daily')).toEqual([
      '    → crm (api https://crm.example/v1/contacts)  partial upsert 7 rows sent, 3 rejected (dead letter _deliveries/daily/slot=20240115T060000Z/r1/crm/dead-letter/)  at 2024-01-15T07:01:00.000Z',
    ]);
    const folder = {
      ...base,
      destination: 'inbox',
      target: 'folder in',
      mode: 'full' as const,
      status: 'delivered' as const,
      files: 3,
      bytes: 2048,
      rowsSent: 0,
      rowsRejected: 0,
    };
    expect(destinationLines([folder], 'daily')).toEqual(['    → inbox (folder in)  delivered 3 files, 2.0 KiB  at 2024-01-15T07:01:00.000Z']);
    const failed = { ...folder, status: 'failed' as const, files: 1, bytes: 10, errors: [{ message: 'Error: disk full' }] };
    expect(destinationLines([failed], 'daily')[0]).toBe(
      '    → inbox (folder in)  failed: Error: disk full (after 1 file, 10 B; fix it, then dropkit repair daily)  at 2024-01-15T07:01:00.000Z',
    );
  });
});
