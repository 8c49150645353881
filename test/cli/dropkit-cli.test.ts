import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestProblems } from '../../lib/core/manifest-schema';
import { BIN, dropkit } from '../helpers/cli';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

const SLOT = ['--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z'];

const PARTNER_FEED = `name: statements
description: per-partner test feed
owner: tests@example.com
schedule:
  cron: "0 6 * * *"
sla:
  deadline: "09:00"
delivery: per-partner
parameters:
  label: b
formats:
  csv:
    gzip: false
partners:
  - id: acme
  - id: evil
    parameters:
      label: "x'; DROP TABLE events; --"
`;

describe('dropkit CLI (child process)', () => {
  let p: TempProject;
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
  });
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  it('check validates the project and prints the next slots with their deadlines', async () => {
    const r = await dropkit(['check', '--project', p.dir, '--now', '2024-01-15T07:00:00Z']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ test: 1 feed valid');
    expect(r.stdout).toContain('EventBridge cron(0 6 * * ? *)');
    expect(r.stdout).toMatch(/slot 2024-01-16 06:00 UTC\s+\(2024-01-16T06:00:00.000Z\)\s+due by 2024-01-16 08:00 UTC/);
  });

  it('run delivers a slot and prints one JSON object with status, runId and the manifest path', async () => {
    const r = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'delivered', feed: 'daily', slot: '20240115T060000Z', revision: 1, rowCount: 3 });
    expect(out.runId).toMatch(/^20240115T060000Z-r1-[0-9a-f]{12}$/);
    expect(out.manifest).toBe(join(p.dir, 'out', out.manifestKey));
    const manifest = JSON.parse(readFileSync(out.manifest, 'utf8'));
    expect(manifestProblems(manifest)).toEqual([]);
    expect(r.stdout.trim().split('\n')).toHaveLength(1); // no console noise on stdout with --json
  });

  it('run of an already delivered slot exits 0 and says so; --rerun makes revision 2', async () => {
    const first = JSON.parse((await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--json'])).stdout);
    const again = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'already-delivered', runId: first.runId });
    const human = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT]);
    expect(human.stdout).toMatch(/already delivered \(revision 1, run .*\); use --rerun/);
    const rerun = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--rerun', '--json']);
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ status: 'delivered', revision: 2, supersedes: first.runId });
  });

  it('run exits 3 when validation fails and publishes nothing', async () => {
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect(true));
    const r = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-16T06:00:00Z', '--now', '2024-01-16T07:00:00Z', '--json']);
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'validation-failed', manifest: null, error: { step: 'validate' } });
    expect(out.validation.checks.find((c: any) => c.name === 'unique(id)')).toMatchObject({ outcome: 'fail', observed: 1 });
    expect(existsSync(join(p.dir, 'out', 'daily'))).toBe(false);
  });

  it('run exits 2 on a bad feed file, naming file, field and fix, and writes nothing', async () => {
    p.write('feeds/daily.yaml', dailyFeed().replace('timezone: UTC', 'timezone: Nowhere/City'));
    const r = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('feeds/daily.yaml: schedule.timezone: unknown time zone (got "Nowhere/City")');
    expect(r.stderr).toMatch(/fix: use an IANA time zone name/);
    expect(existsSync(join(p.dir, 'out'))).toBe(false);
  });

  it('run exits 2 for an unknown feed, a slot that is not a tick, or an unknown option', async () => {
    const unknown = await dropkit(['run', 'nope', '--project', p.dir]);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no feed named "nope"; feeds: daily')]);
    const offTick = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:30:00Z', '--now', '2024-01-16T00:00:00Z']);
    expect([offTick.code, offTick.stderr]).toEqual([2, expect.stringContaining('is not a slot of daily')]);
    const option = await dropkit(['run', 'daily', '--project', p.dir, '--slots', 'x']);
    expect([option.code, option.stderr]).toEqual([2, expect.stringMatching(/--slots/)]);
  });

  it('run exits 1 when the query fails, recording the failed run', async () => {
    p.write('feeds/daily.sql', 'SELECT id FROM missing_table');
    const r = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'failed', error: { step: 'stage', name: 'QueryFailedError' } });
    const record = JSON.parse(readFileSync(join(p.dir, 'out', '_runs', 'daily', 'slot=20240115T060000Z', `${out.runId}.json`), 'utf8'));
    expect(record).toMatchObject({ status: 'failed', step: 'stage' });
  });

  it('runs a per-partner feed once per partner, binding a hostile parameter value as a value', async () => {
    // $partner_id in the SELECT list is DuckDB-only SQL (Athena takes parameters only in WHERE): Athena gets its own file.
    p.write('feeds/statements.yaml', PARTNER_FEED + 'query:\n  duckdb: statements.sql\n  athena: statements.athena.sql\n');
    p.write('feeds/statements.sql', 'SELECT id, label, $partner_id AS partner FROM events WHERE label = $label AND happened_at < $window_end ORDER BY id');
    p.write(
      'feeds/statements.athena.sql',
      'SELECT id, label FROM events WHERE label = $label AND partner = $partner_id AND happened_at < $window_end ORDER BY id',
    );
    const r = await dropkit(['run', 'statements', '--project', p.dir, ...SLOT, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('delivered');
    expect(out.runs.map((x: any) => [x.partner, x.rowCount])).toEqual([
      ['acme', 1],
      ['evil', 0],
    ]);
    const acmeCsv = readFileSync(join(p.dir, 'out', out.runs[0].manifestKey.replace('manifest.json', 'part-00000.csv')), 'utf8');
    expect(acmeCsv).toBe('id,label,partner\n2,b,acme\n');
    const evilCsv = readFileSync(join(p.dir, 'out', out.runs[1].manifestKey.replace('manifest.json', 'part-00000.csv')), 'utf8');
    expect(evilCsv).toBe('id,label,partner\n'); // zero rows: a header-only file, and the events table is still there
    const again = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--json']);
    expect(JSON.parse(again.stdout).rowCount).toBe(3);
  });

  it('run exits 2 before doing anything when a webhook secret is missing', async () => {
    p.write('feeds/daily.yaml', dailyFeed() + 'notify:\n  - type: webhook\n    url: https://hooks.example.com/dropkit\n    secretEnv: DAILY_HOOK_SECRET\n');
    const r = await dropkit(['run', 'daily', '--project', p.dir, ...SLOT], { DAILY_HOOK_SECRET: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DAILY_HOOK_SECRET');
    expect(existsSync(join(p.dir, 'out'))).toBe(false);
  });

  it('plan shows the slot, data interval, deadline and run id without writing anything', async () => {
    const r = await dropkit(['plan', 'daily', '--project', p.dir, ...SLOT]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/daily slot 20240115T060000Z \(revision 1\)/);
    expect(r.stdout).toContain('data interval 2024-01-14T06:00:00.000Z → 2024-01-15T06:00:00.000Z');
    expect(r.stdout).toContain('expected by   2024-01-15T08:00:00.000Z');
    expect(existsSync(join(p.dir, 'out'))).toBe(false);
  });

  it('history lists delivered and failed runs, newest slot first', async () => {
    await dropkit(['run', 'daily', '--project', p.dir, ...SLOT]);
    p.write('feeds/daily.sql', 'SELECT id FROM missing_table');
    await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-16T06:00:00Z', '--now', '2024-01-16T07:00:00Z']);
    const r = await dropkit(['history', 'daily', '--project', p.dir]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^20240116T060000Z {2}r1 {2}failed at stage: .*missing_table/);
    expect(lines[1]).toMatch(/^20240115T060000Z {2}r1 {2}delivered 3 rows/);
    const json = JSON.parse((await dropkit(['history', 'daily', '--project', p.dir, '--json', '--limit', '1'])).stdout);
    expect(json.runs).toHaveLength(1);
    expect(json.runs[0]).toMatchObject({ status: 'failed', step: 'stage' });
  });

  it('pull fetches a delivered drop by its manifest, or by the links of its notification, and verifies it', async () => {
    const run = JSON.parse((await dropkit(['run', 'daily', '--project', p.dir, ...SLOT, '--json'])).stdout);
    const dest = join(p.dir, 'partner-copy');
    const byPath = await dropkit(['pull', run.manifest, '--dest', dest, '--json']);
    expect(byPath.code).toBe(0);
    expect(JSON.parse(byPath.stdout)).toMatchObject({
      status: 'ok',
      files: [
        { path: 'part-00000.csv', status: 'ok' },
        { path: 'part-00000.parquet', status: 'ok' },
      ],
    });
    expect(readFileSync(join(dest, 'part-00000.csv'))).toEqual(readFileSync(run.manifest.replace('manifest.json', 'part-00000.csv')));
    const eventFile = join(p.dir, 'event.json');
    const event = readFileSync(join(p.dir, 'out/_outbox/events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'drop.delivered');
    p.write('event.json', JSON.stringify(event));
    const byLinks = await dropkit(['pull', event.manifest.link.url, '--dest', join(p.dir, 'second-copy'), '--links', eventFile]);
    expect(byLinks.code).toBe(0);
    expect(existsSync(join(p.dir, 'second-copy', 'manifest.json'))).toBe(true);
  });

  it('every kind of bad feed file exits 2 with its documented error, and nothing is written', async () => {
    const cases: [string, () => void, RegExp][] = [
      ['broken YAML', () => p.write('feeds/daily.yaml', 'name: daily\nschedule: [\n'), /feeds\/daily\.yaml: line \d+, column \d+: not valid YAML/],
      ['unknown field', () => p.write('feeds/daily.yaml', dailyFeed() + 'colour: blue\n'), /feeds\/daily\.yaml: colour: unknown field/],
      [
        'bad cron',
        () => p.write('feeds/daily.yaml', dailyFeed().replace('"0 6 * * *"', '"0 25 * * *"')),
        /feeds\/daily\.yaml: schedule\.cron: .*hour.*\(got "0 25 \* \* \*"\)/,
      ],
      [
        'unknown time zone',
        () => p.write('feeds/daily.yaml', dailyFeed().replace('timezone: UTC', 'timezone: Mars/Base')),
        /schedule\.timezone: unknown time zone \(got "Mars\/Base"\)/,
      ],
      ['missing SQL file', () => p.write('feeds/other.yaml', dailyFeed('other')), /feeds\/other\.yaml: query: SQL file not found \(got "other\.sql"\)/],
      [
        'duplicate feed names',
        () => (p.write('feeds/again.yaml', dailyFeed('daily')), p.write('feeds/again.sql', DAILY_SQL)),
        /name: feed name already used by/,
      ],
    ];
    for (const [what, breakIt, expected] of cases) {
      const fresh = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
      const original = p;
      p = fresh;
      try {
        breakIt();
        const check = await dropkit(['check', '--project', fresh.dir]);
        const run = await dropkit(['run', 'daily', '--project', fresh.dir, ...SLOT]);
        expect([what, check.code, run.code]).toEqual([what, 2, 2]);
        expect([what, check.stderr]).toEqual([what, expect.stringMatching(expected)]);
        expect([what, check.stderr]).toEqual([what, expect.stringMatching(/fix: /)]);
        expect([what, existsSync(join(fresh.dir, 'out'))]).toEqual([what, false]);
      } finally {
        p = original;
        fresh.cleanup();
      }
    }
  });
});
