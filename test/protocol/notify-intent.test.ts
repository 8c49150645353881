import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../../lib/core/run-record';
import { notifyStep } from '../../lib/core/steps/notify';
import { fixedClock } from '../../lib/core/ports/clock';
import type { DropEvent, Notifier, NotifyOutcome } from '../../lib/core/ports/notifier';
import { runSlot } from '../../lib/runner/run-slot';
import { readJson } from '../helpers/local-run';
import { outboxEvents, settledProblems } from '../helpers/protocol-audit';
import { baseProject, BaseProject, depsIn, localStoreOf, SLOT_16 } from '../helpers/protocol-fixture';

const RECORDS_16 = '_runs/daily/slot=20240116T060000Z/';

/** A slow webhook the process dies waiting for: it never answers, and the run goes no further (a kill -9 mid-notice). */
class DiesWaiting implements Notifier {
  readonly target = 'webhook https://slow.example/hook';
  readonly got: DropEvent[] = [];
  constructor(private readonly dies: boolean) {}
  async notify(event: DropEvent): Promise<NotifyOutcome> {
    this.got.push(event);
    // Let the outbox (the other target) finish first, as a fast target does beside a slow one.
    await new Promise((r) => setTimeout(r, 50));
    if (this.dies) throw new Error('process killed while the webhook was in flight');
    return { target: this.target, status: 'sent', attempts: 1 };
  }
}

async function runWith(dir: string, extra: Notifier | undefined) {
  const { deps } = depsIn(dir);
  const consumers = (feed: Parameters<typeof deps.consumers>[0], partner: string | null) => [...deps.consumers(feed, partner), ...(extra ? [extra] : [])];
  return runSlot({ feed: 'daily', partner: null, slot: new Date(SLOT_16) }, { ...deps, consumers });
}

/** Issue 14 item 8: the notice is recorded as meant before it goes, each target as it has it, and only a notice that reached someone as sent. */
describe('the drop.delivered notice: intent, send, mark', () => {
  let base: BaseProject;
  beforeAll(async () => {
    base = await baseProject({ deliverSlot14: false });
  });
  afterAll(() => base.cleanup());

  it('a run that dies while a slow webhook is in flight: the next run resends to the webhook only, the outbox has the notice once, and the body is the same', async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    const dying = new DiesWaiting(true);
    const first = await runWith(dir, dying);
    expect(first.status).toBe('delivered');
    const record = await readJson<RunRecord>(local, `${RECORDS_16}${first.runId}.json`);
    // The intent and the outbox's mark are recorded; the notice is not marked sent.
    expect(record).toMatchObject({ noticeSent: false, notice: { sentTo: { [first.runId]: [expect.stringMatching(/^outbox /)] } } });

    const webhook = new DiesWaiting(false);
    const next = await runWith(dir, webhook);
    expect(next.status).toBe('already-delivered');
    expect(outboxEvents(local).filter((e) => e.type === 'drop.delivered')).toHaveLength(1);
    expect(webhook.got.map((e) => e.id)).toEqual([first.runId]);
    expect(webhook.got[0]).toEqual(dying.got[0]); // same body, occurredAt included
    expect(await settledProblems(local)).toEqual([]);
  });

  it('a notice that reached no target is not recorded as sent; the next run sends it, once', async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    // The outbox cannot be written: a folder stands where its file goes.
    const outbox = join(local.root, '_outbox', 'events.jsonl');
    mkdirSync(outbox, { recursive: true });
    const first = await runWith(dir, undefined);
    expect(first.status).toBe('delivered');
    expect(first.notifications.map((o) => o.status)).toEqual(['failed']);
    const record = await readJson<RunRecord>(local, `${RECORDS_16}${first.runId}.json`);
    expect(record.noticeSent).toBe(false);
    expect(record.pending).toEqual(['notify: the drop.delivered notice reached no target']);

    rmSync(outbox, { recursive: true });
    expect((await runWith(dir, undefined)).status).toBe('already-delivered');
    expect(
      outboxEvents(local)
        .filter((e) => e.type === 'drop.delivered')
        .map((e) => e.id),
    ).toEqual([first.runId]);
    expect(await settledProblems(local)).toEqual([]);
  });

  it('dropkit notify resends the very same notice (id and occurredAt) a day later', async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    const first = await runWith(dir, undefined);
    const { deps } = depsIn(dir);
    await notifyStep(
      { feed: 'daily', partner: null, prefix: '', slot: first.slot, runId: first.runId, revision: 1, manifestKey: first.manifestKey! },
      { ...deps, clock: fixedClock('2024-01-17T09:00:00Z') },
      { resend: true },
    );
    const sent = outboxEvents(local).filter((e) => e.type === 'drop.delivered');
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
  });
});
