import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { BIN, dropkit } from '../helpers/cli';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';
import { manifestFor, putManifest, putRun, runRecordFor } from './sla-fixtures';

/** The daily feed, started before the window: every slot of it is owed, recorded or not. */
const startedFeed = (extra = '') => dailyFeed('daily', extra).replace('schedule:', 'start: "2024-01-01"\nschedule:');

const NOW = '2024-01-16T12:00:00Z';

/**
 * Prepared record of the daily feed (06:00 UTC, due within 2 h, no grace):
 * 12th nothing, 13th delivered 30 min late (r1) and rerun (r2), 14th validation failed,
 * 15th delivered on time by a real run, 16th nothing.
 */
async function prepare(p: TempProject): Promise<void> {
  const store = new LocalStore(join(p.dir, 'out'));
  const day = (d: number) => `2024-01-${d}`;
  const m13 = { slot: '20240113T060000Z', scheduledFor: `${day(13)}T06:00:00.000Z`, expectedBy: `${day(13)}T08:00:00.000Z` };
  await putManifest(store, manifestFor({ ...m13, deliveredAt: `${day(13)}T08:30:00.000Z`, rowCount: 2 }));
  await putManifest(store, manifestFor({ ...m13, deliveredAt: `${day(13)}T10:00:00.000Z`, rowCount: 4, revision: 2 }));
  await putRun(
    store,
    runRecordFor({ slot: '20240114T060000Z', status: 'validation-failed', startedAt: `${day(14)}T06:01:00.000Z`, message: 'check unique(id) failed' }),
  );
  const run = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z']);
  expect(run.code).toBe(0);
}

function outbox(p: TempProject): { type: string; id: string; delay?: { phase: string } }[] {
  const file = join(p.dir, 'out/_outbox/events.jsonl');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
}

describe('dropkit sla and the per-slot history', () => {
  let p: TempProject;
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
  });
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': startedFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  it('history --from --to shows one row per slot: expected by, delivered at, lateness, state, rows, validation, revision', async () => {
    await prepare(p);
    const r = await dropkit(['history', 'daily', '--project', p.dir, '--from', '2024-01-12', '--to', NOW, '--now', NOW]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/ {2,}/));
    expect(lines).toEqual([
      ['slot', 'partner', 'expected by', 'delivered at', 'lateness', 'state', 'rows', 'validation', 'rev'],
      ['20240116T060000Z', '-', '2024-01-16 08:00 UTC', '-', '-', 'MISSED', '-', '-', '-'],
      ['20240115T060000Z', '-', '2024-01-15 08:00 UTC', '2024-01-15 07:00 UTC', '0', 'MET', '3', 'pass', 'r1'],
      ['20240114T060000Z', '-', '2024-01-14 08:00 UTC', '-', '-', 'FAILED', '-', 'fail', 'r1'],
      ['20240113T060000Z', '-', '2024-01-13 08:00 UTC', '2024-01-13 08:30 UTC', '30 min', 'LATE', '4', 'pass', 'r2'],
      ['20240112T060000Z', '-', '2024-01-12 08:00 UTC', '-', '-', 'MISSED', '-', '-', '-'],
    ]);
    const json = JSON.parse((await dropkit(['history', 'daily', '--project', p.dir, '--slots', '--limit', '2', '--now', NOW, '--json'])).stdout);
    expect(json.slots.map((s: { slot: string; state: string }) => `${s.slot} ${s.state}`)).toEqual(['20240116T060000Z MISSED', '20240115T060000Z MET']);
    // The per-run view is still there.
    const runs = await dropkit(['history', 'daily', '--project', p.dir, '--runs']);
    expect(runs.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^20240115T060000Z {2}r1 {2}delivered 3 rows/),
      expect.stringMatching(/^20240114T060000Z {2}r1 {2}validation failed at validate/),
    ]);
  });

  it('sla prints every slot of the window, exits 4 when one needs attention, and tells each change once', async () => {
    await prepare(p);
    const r = await dropkit(['sla', '--project', p.dir, '--at', NOW, '--look-back', 'P4DT6H']);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^daily +- +20240114T060000Z +2024-01-14 08:00 UTC +FAILED +validation failed: check unique\(id\) failed$/m);
    expect(r.stdout).toMatch(/^daily +- +20240113T060000Z .* LATE +delivered 30 min late$/m);
    expect(r.stdout).toContain('1 MET, 1 LATE, 2 MISSED, 1 FAILED');
    const sent = outbox(p).filter((e) => e.type !== 'drop.delivered');
    expect(sent.map((e) => `${e.type} ${e.id}`).sort()).toEqual([
      // Consumers and operators share the outbox locally: it gets one copy of each.
      'data.delay sla:daily:-:20240112T060000Z:data.delay.missed',
      'data.delay sla:daily:-:20240114T060000Z:data.delay.missed',
      'data.delay sla:daily:-:20240116T060000Z:data.delay.missed',
      // The real run of the 15th differs in schema from the prepared drop of the 13th: partners are told.
      expect.stringMatching(/^schema.change 20240115T060000Z-r1-[0-9a-f]{12}\.schema-change$/),
      expect.stringMatching(/^validation.failed 20240114T060000Z-r1-[0-9a-f]{12}\.validation-failed$/),
    ]);
    expect(outbox(p).find((e) => e.type === 'validation.failed')).toMatchObject({
      audience: 'operators',
      error: { name: 'ValidationFailedError', message: 'check unique(id) failed' },
    });
    const again = await dropkit(['sla', '--project', p.dir, '--at', NOW, '--look-back', 'P4DT6H', '--json']);
    expect(again.code).toBe(4);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'attention', exitCode: 4, notices: [], counts: { MISSED: 2, FAILED: 1 } });
    expect(outbox(p).length).toBe(sent.length + 1);
  });

  it('sla exits 0 when every slot is delivered or not expected, and 5 while one is still open', async () => {
    await prepare(p);
    p.write('dropkit.yaml', `${PROJECT_YAML}calendar:\n  exceptDates: ["2024-01-12", "2024-01-16"]\n`);
    p.write('feeds/daily.yaml', `${startedFeed()}calendar:\n  exceptDates: ["2024-01-14"]\n`);
    const ok = await dropkit(['sla', '--project', p.dir, '--at', NOW, '--look-back', 'P4DT6H', '--json']);
    expect(ok.code).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(out.slots.map((s: { slot: string; state: string }) => `${s.slot} ${s.state}`)).toEqual([
      '20240112T060000Z NOT_EXPECTED',
      '20240113T060000Z LATE',
      '20240114T060000Z NOT_EXPECTED',
      '20240115T060000Z MET',
      '20240116T060000Z NOT_EXPECTED',
    ]);
    const open = await dropkit(['sla', '--project', p.dir, '--at', '2024-01-17T06:30:00Z', '--look-back', 'PT12H']);
    expect(open.code).toBe(5);
    expect(open.stdout).toMatch(/20240117T060000Z .* PENDING +not due yet/);
  });

  it('sla refuses a bad look-back with exit 2 and a fix', async () => {
    const r = await dropkit(['sla', '--project', p.dir, '--look-back', 'two days']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--look-back two days is not an ISO-8601 duration; give e.g. P2D');
  });

  it('sla stops with exit 2 before claiming anything when a webhook secret is missing', async () => {
    p.write('feeds/daily.yaml', startedFeed('notify:\n  - type: webhook\n    url: https://partner.example/hook\n    secretEnv: DROPKIT_TEST_NO_SUCH_SECRET\n'));
    const r = await dropkit(['sla', '--project', p.dir, '--at', NOW]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DROPKIT_TEST_NO_SUCH_SECRET');
    expect(existsSync(join(p.dir, 'out', '_sla'))).toBe(false);
    // Reporting only needs no secret.
    expect((await dropkit(['sla', '--project', p.dir, '--at', NOW, '--report-only'])).code).toBe(4);
  });
});
