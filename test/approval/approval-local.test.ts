import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../../lib/core/errors';
import { manifestProblems } from '../../lib/core/manifest-schema';
import type { Manifest } from '../../lib/core/manifest';
import type { RunRecord } from '../../lib/core/run-record';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { loadProject } from '../../lib/project/load-project';
import { decideSlot, expireHeldDrops, runSlot } from '../../lib/runner/run-slot';
import { REDACTED } from '../../lib/report/profile-data';
import { cli } from '../helpers/in-process-cli';
import { listKeys, localDeps, readJson } from '../helpers/local-run';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

const SLOT_15 = '2024-01-15T06:00:00Z';
const SLOT_16 = '2024-01-16T06:00:00Z';
const HOLD_KEY = '_approvals/daily/slot=20240115T060000Z.json';
const APPROVAL = 'approval:\n  when: [first, schema_change]\n  approvers: [owner@shop.example, cfo@shop.example]\n  timeout: PT8H\n';
// label is personal data: redacted in the approvers' preview.
const PII = 'columns:\n  label:\n    pii: true\n';

/**
 * Sign-off on the local path: `dropkit run` holds the drop before its manifest, `dropkit
 * approve|reject` (decideSlot) resumes the graph at the gate, and a run or `dropkit sla` after the
 * timeout rolls it back. Every "now" is injected.
 */
describe('sign-off, locally', () => {
  let project: TempProject;
  beforeEach(async () => {
    project = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed('daily', APPROVAL + PII), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => project.cleanup());

  const deps = (now: string) => localDeps(loadProject(project.dir), { now });
  const store = () => new LocalStore(loadProject(project.dir).outputDir);
  const run = (slot: string, now: string) => runSlot({ feed: 'daily', partner: null, slot: new Date(slot) }, deps(now));
  const decide = (decision: 'approved' | 'rejected', now: string, by = 'owner@shop.example', reason = 'looked at the profile') =>
    decideSlot({ feed: 'daily', partner: null, slot: new Date(SLOT_15), decision, by, reason }, deps(now));
  const outbox = () =>
    readFileSync(join(loadProject(project.dir).outputDir, '_outbox', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  it('holds the first drop before its manifest: no manifest, no pointer, the approvers told, the slot kept', async () => {
    const held = await run(SLOT_15, '2024-01-15T07:00:00Z');
    expect(held).toMatchObject({
      status: 'awaiting-approval',
      manifestKey: null,
      trail: ['plan', 'stage', 'validate', 'render', 'approve'],
      approval: {
        outcome: 'held',
        reasons: ['first: no earlier drop of daily'],
        approvers: ['owner@shop.example', 'cfo@shop.example'],
        deadline: '2024-01-15T15:00:00.000Z',
      },
    });
    const s = store();
    // Nothing a partner could see or sign a link for: the drop's folder and latest.json are absent.
    expect(await listKeys(s, 'daily/')).toEqual([]);
    const staged = await listKeys(s, '_staging/');
    expect(staged.some((k) => k.endsWith('.csv'))).toBe(true);
    expect(await readJson(s, HOLD_KEY)).toMatchObject({ status: 'held', runId: held.runId });
    // The lease is kept to the deadline, so another run of the slot touches nothing and says why.
    expect(await readJson(s, '_leases/daily/slot=20240115T060000Z.json')).toMatchObject({ released: false, expiresAt: '2024-01-15T15:00:00.000Z' });
    const again = await run(SLOT_15, '2024-01-15T07:30:00Z');
    expect(again.status).toBe('busy');
    expect(again.error?.message).toMatch(/held for approval until 2024-01-15T15:00:00.000Z.*dropkit approve\|reject daily --slot 20240115T060000Z/);
    expect(await listKeys(s, '_staging/')).toEqual(staged);
    const notice = outbox().find((e) => e.type === 'approval.requested');
    expect(notice).toMatchObject({
      audience: 'operators',
      approval: {
        approvers: ['owner@shop.example', 'cfo@shop.example'],
        deadline: '2024-01-15T15:00:00.000Z',
        schema: expect.arrayContaining([{ name: 'id', type: 'INTEGER' }]),
      },
    });
    expect(notice.approval.profile.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'label', 'amount', 'happened_at']);
    // What the data looks like, without personal data: the first rows with label redacted, and no label values in the profile.
    expect(notice.approval.preview).toEqual({
      columns: ['id', 'label', 'amount', 'happened_at'],
      rows: [
        ['2', REDACTED, '2.20', '2024-01-14T08:00:00Z'],
        ['3', REDACTED, '3.30', '2024-01-14T12:00:00Z'],
        ['4', REDACTED, '4.40', '2024-01-14T23:59:59Z'],
      ],
      redacted: ['label'],
    });
    expect(JSON.stringify(notice)).not.toMatch(/"[bcd]"/);
  });

  it('publishes an approved drop with who, when and why in the manifest and the run record', async () => {
    await run(SLOT_15, '2024-01-15T07:00:00Z');
    const out = await decide('approved', '2024-01-15T09:00:00Z');
    expect(out.error).toBeUndefined();
    expect(out).toMatchObject({ status: 'delivered', trail: ['approve', 'publish', 'push', 'notify'] });
    const s = store();
    const manifest = await readJson<Manifest>(s, out.manifestKey!);
    expect(manifestProblems(manifest)).toEqual([]);
    expect(manifest.approval).toEqual({
      status: 'approved',
      reasons: ['first: no earlier drop of daily'],
      heldAt: '2024-01-15T07:00:00.000Z',
      approvedBy: 'owner@shop.example',
      approvedAt: '2024-01-15T09:00:00.000Z',
      reason: 'looked at the profile',
    });
    expect(manifest.sla).toMatchObject({ deliveredAt: '2024-01-15T09:00:00.000Z', status: 'LATE' });
    const record = await readJson<RunRecord>(s, `_runs/daily/slot=20240115T060000Z/${out.runId}.json`);
    expect(record).toMatchObject({ status: 'delivered', approval: { status: 'approved', approvedBy: 'owner@shop.example' } });
    expect(await readJson(s, HOLD_KEY)).toMatchObject({ status: 'approved', approval: { decision: { by: 'owner@shop.example' } } });
    expect(await listKeys(s, '_staging/')).toEqual([]);
    expect(await readJson(s, '_leases/daily/slot=20240115T060000Z.json')).toMatchObject({ released: true });
    expect(outbox().some((e) => e.type === 'drop.delivered' && e.runId === out.runId)).toBe(true);

    // The next slot, same columns: no trigger applies, and the manifest says so.
    const next = await run(SLOT_16, '2024-01-16T07:00:00Z');
    expect(next.status).toBe('delivered');
    expect(next.manifest?.approval).toEqual({ status: 'not-required', reasons: ['none of approval.when (first, schema_change) applies'] });
  });

  it('holds a drop whose columns changed since the last one', async () => {
    await run(SLOT_15, '2024-01-15T07:00:00Z');
    await decide('approved', '2024-01-15T08:00:00Z');
    project.write('feeds/daily.sql', DAILY_SQL.replace(/SELECT /i, 'SELECT 1 AS added_col, '));
    const held = await run(SLOT_16, '2024-01-16T07:00:00Z');
    expect(held.status).toBe('awaiting-approval');
    expect(held.approval?.reasons).toEqual([expect.stringMatching(/^schema_change since run .*: added added_col \(INTEGER\)/)]);
  });

  it('rolls a rejected drop back like a failed check: nothing published, the reason in the run record', async () => {
    const held = await run(SLOT_15, '2024-01-15T07:00:00Z');
    const out = await decide('rejected', '2024-01-15T08:00:00Z', 'cfo@shop.example', 'amounts look doubled');
    expect(out).toMatchObject({
      status: 'failed',
      trail: ['approve', 'failRun'],
      error: { step: 'approve', name: 'ApprovalRejectedError' },
      approval: { outcome: 'rejected', decision: { by: 'cfo@shop.example', at: '2024-01-15T08:00:00.000Z', reason: 'amounts look doubled' } },
    });
    const s = store();
    expect(await listKeys(s, 'daily/')).toEqual([]);
    expect(await listKeys(s, '_staging/')).toEqual([]);
    expect(await readJson(s, '_leases/daily/slot=20240115T060000Z.json')).toMatchObject({ released: true });
    const record = await readJson<RunRecord>(s, `_runs/daily/slot=20240115T060000Z/${held.runId}.json`);
    expect(record).toMatchObject({ status: 'failed', step: 'approve', error: { name: 'ApprovalRejectedError' }, approval: { outcome: 'rejected' } });
    // Decided once: a second decision is refused.
    await expect(decide('approved', '2024-01-15T08:30:00Z')).rejects.toThrow(/already rejected/);
  });

  it('refuses a decision by someone who is not an approver, naming the approvers', async () => {
    await run(SLOT_15, '2024-01-15T07:00:00Z');
    const refused = decide('approved', '2024-01-15T08:00:00Z', 'intern@shop.example');
    await expect(refused).rejects.toThrow(UsageError);
    await expect(decide('approved', '2024-01-15T08:00:00Z', 'intern@shop.example')).rejects.toThrow(
      /"intern@shop.example" is not an approver of daily; give one of owner@shop.example, cfo@shop.example/,
    );
    expect(await readJson(store(), HOLD_KEY)).toMatchObject({ status: 'held' });
  });

  it('rolls back a drop nobody decided on by its deadline, and the SLA watch reports the slot FAILED at approve', async () => {
    const held = await run(SLOT_15, '2024-01-15T07:00:00Z');
    // Before the deadline nothing expires.
    expect(await expireHeldDrops(deps('2024-01-15T14:59:59Z'))).toEqual([]);
    const { code, stdout } = await cli(['sla', '--project', project.dir, '--at', '2024-01-15T15:00:00Z', '--look-back', 'PT12H', '--json']);
    const sla = JSON.parse(stdout);
    expect(code).toBe(4);
    expect(sla.slots).toEqual([
      expect.objectContaining({
        feed: 'daily',
        slot: '20240115T060000Z',
        state: 'FAILED',
        detail: expect.stringMatching(/approve.*ApprovalTimedOutError|timeout/),
      }),
    ]);
    const s = store();
    const record = await readJson<RunRecord>(s, `_runs/daily/slot=20240115T060000Z/${held.runId}.json`);
    expect(record).toMatchObject({ status: 'failed', step: 'approve', error: { name: 'ApprovalTimedOutError' }, approval: { outcome: 'timed-out' } });
    expect(await readJson(s, HOLD_KEY)).toMatchObject({ status: 'timed-out' });
    expect(await listKeys(s, '_staging/')).toEqual([]);
    expect(outbox().some((e) => e.type === 'run.failed' && e.error?.name === 'ApprovalTimedOutError')).toBe(true);
  });

  it('has the next run after the deadline roll the held drop back before it starts over', async () => {
    const first = await run(SLOT_15, '2024-01-15T07:00:00Z');
    const firstAttempt = (await readJson(store(), HOLD_KEY)).attemptId as string;
    const next = await run(SLOT_15, '2024-01-15T16:00:00Z');
    // The new attempt is held again (still the first drop), with a new deadline; the old one is gone.
    expect(next).toMatchObject({ status: 'awaiting-approval', runId: first.runId, approval: { deadline: '2024-01-16T00:00:00.000Z' } });
    const hold = await readJson(store(), HOLD_KEY);
    expect(hold.attemptId).not.toBe(firstAttempt);
    expect((await listKeys(store(), '_staging/')).some((k) => k.includes(firstAttempt))).toBe(false);
    expect(outbox().some((e) => e.type === 'run.failed' && e.error?.name === 'ApprovalTimedOutError')).toBe(true);
    // Approving after a deadline rolls back instead.
    const late = await decide('approved', '2024-01-16T00:00:01Z');
    expect(late).toMatchObject({ status: 'failed', error: { name: 'ApprovalTimedOutError' } });
  });

  it('reads an approval block with clear errors for a bad trigger and a missing approver list', () => {
    project.write('feeds/daily.yaml', dailyFeed('daily', 'approval:\n  when: [first, schema]\n  approvers: []\n  timeout: P30D\n'));
    let problems: ConfigError['problems'] = [];
    try {
      loadProject(project.dir);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems = e.problems;
    }
    expect(problems.map((p) => [p.file, p.path, p.message])).toEqual(
      expect.arrayContaining([
        ['feeds/daily.yaml', 'approval.when.1', 'not an allowed value'],
        ['feeds/daily.yaml', 'approval.approvers', expect.stringMatching(/at least one approver/)],
        ['feeds/daily.yaml', 'approval.timeout', expect.stringMatching(/at most 7 days/)],
      ]),
    );
    expect(problems.find((p) => p.path === 'approval.when.1')).toMatchObject({ value: 'schema', fix: 'use one of: "first", "schema_change", "drift"' });
    expect(problems.find((p) => p.path === 'approval.timeout')?.fix).toMatch(/PT8H/);
  });
});

describe('dropkit approve and reject', () => {
  let project: TempProject;
  beforeEach(async () => {
    project = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed('daily', APPROVAL + PII), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => project.cleanup());

  it('run exits 7 when it holds a drop; approve publishes it and exits 0', async () => {
    const held = await cli(['run', 'daily', '--project', project.dir, '--slot', SLOT_15, '--now', '2024-01-15T07:00:00Z', '--notify']);
    expect(held.code).toBe(7);
    expect(held.stdout).toMatch(/held for approval until 2024-01-15T15:00:00.000Z/);
    expect(held.stdout).toMatch(/because first: no earlier drop of daily/);
    const approved = await cli([
      'approve',
      'daily',
      '--project',
      project.dir,
      '--slot',
      '20240115T060000Z',
      '--by',
      'owner@shop.example',
      '--reason',
      'checked',
      '--now',
      '2024-01-15T08:00:00Z',
      '--json',
    ]);
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({
      status: 'delivered',
      approval: { status: 'approved', approvedBy: 'owner@shop.example', reason: 'checked' },
    });
  });

  it('approve --show prints the held drop, decides nothing, and gives the JSON the link broker answers', async () => {
    await cli(['run', 'daily', '--project', project.dir, '--slot', SLOT_15, '--now', '2024-01-15T07:00:00Z']);
    const show = ['approve', 'daily', '--project', project.dir, '--slot', SLOT_15, '--show', '--now', '2024-01-15T08:00:00Z'];
    const text = await cli(show);
    expect([text.code, text.stderr]).toEqual([0, '']);
    expect(text.stdout).toMatch(
      /^daily slot 20240115T060000Z \(run [^)]+\): held\n {2}decide by 2024-01-15T15:00:00.000Z: dropkit approve\|reject daily --slot 20240115T060000Z/,
    );
    expect(text.stdout).toContain('    - first: no earlier drop of daily');
    expect(text.stdout).toMatch(/ {4}label: 0\.0% null, ~3 distinct\n/);
    expect(text.stdout).toContain('(label redacted: pii)');
    expect(text.stdout).toContain(`| ${REDACTED} |`);
    const json = await cli([...show, '--json']);
    const view = JSON.parse(json.stdout);
    expect(view).toMatchObject({ status: 'held', decision: null, approvers: expect.any(Array), rowCount: 3, preview: { redacted: ['label'] } });
    expect(view.preview.rows.every((r: (string | null)[]) => r[1] === REDACTED)).toBe(true);
    // Nothing was decided: the hold still waits.
    expect(await readJson(new LocalStore(loadProject(project.dir).outputDir), HOLD_KEY)).toMatchObject({ status: 'held' });
    const wrong = await cli([...show, '--by', 'owner@shop.example']);
    expect([wrong.code, wrong.stderr]).toEqual([2, expect.stringContaining('--show decides nothing')]);
    const never = await cli(['approve', 'daily', '--project', project.dir, '--slot', SLOT_16, '--show']);
    expect([never.code, never.stderr]).toEqual([2, expect.stringContaining('no drop of daily slot 20240116T060000Z was held for approval')]);
  });

  it('reject exits 0 once rolled back; a missing --reason is a usage error', async () => {
    await cli(['run', 'daily', '--project', project.dir, '--slot', SLOT_15, '--now', '2024-01-15T07:00:00Z']);
    const args = ['reject', 'daily', '--project', project.dir, '--slot', SLOT_15, '--by', 'owner@shop.example', '--now', '2024-01-15T08:00:00Z'];
    const noReason = await cli(args);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/needs --reason/);
    const rejected = await cli([...args, '--reason', 'wrong month']);
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toMatch(/failed at approve; nothing was published[\s\S]*rejected by owner@shop.example at 2024-01-15T08:00:00.000Z: wrong month/);
  });
});
