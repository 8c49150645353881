import type { Clock } from '../../ports/clock';
import type { LinkSigner } from '../../ports/link-signer';
import type { DropEvent, Notifier, NotifyOutcome } from '../../ports/notifier';
import type { ObjectStore } from '../../ports/object-store';
import { parseDurationSeconds } from '../duration';
import { runRecordKey } from '../layout';
import type { Manifest } from '../manifest';
import type { RunRecord } from '../run-record';
import type { RunPlan, DeliveredRef } from './plan';
import { readRunRecord, writeRunRecord } from './roll-forward';
import type { StepDeps } from './step-deps';

export interface NotifyResult {
  readonly status: 'sent' | 'already-sent';
  readonly outcomes: readonly NotifyOutcome[];
}

/**
 * The notify step: links for the manifest and every file, then every consumer is told. The run
 * record remembers that the notice went out, so a repeat (a retried step, the next run repairing
 * a crash) does not send it again; `resend` sends it again on purpose, with the same idempotency
 * key. Outcomes are recorded, never thrown: the drop stays delivered.
 */
export async function notifyStep(ref: DeliveredRef, deps: Pick<StepDeps, 'store' | 'signer' | 'clock' | 'feeds' | 'consumers'>, options: { resend?: boolean } = {}): Promise<NotifyResult> {
  const { store } = deps;
  const recordKey = runRecordKey(ref, ref.slot, ref.runId);
  const record = await readRunRecord(store, recordKey);
  if (record?.noticeSent && !options.resend) return { status: 'already-sent', outcomes: record.notifications };
  const got = await store.get(ref.manifestKey);
  if (!got) throw new Error(`${ref.manifestKey} is not in the store: run ${ref.runId} was not delivered`);
  const manifest = JSON.parse(got.body.toString('utf8')) as Manifest;
  const feed = deps.feeds.get(ref.feed);
  const linkSeconds = parseDurationSeconds(feed.spec.links.expiresIn)!;
  const { outcomes } = await notifyDelivered({ manifest, manifestKey: ref.manifestKey, linkSeconds }, { signer: deps.signer, notifiers: deps.consumers(feed, ref.partner), clock: deps.clock });
  if (record) {
    const sent: RunRecord = { ...record, step: 'notify', noticeSent: true, notifications: outcomes, pending: record.pending.filter((p) => !p.startsWith('notify')) };
    // The notice is out: a record that does not say so would have it sent again, so try harder than once.
    for (let tries = 1; ; tries++) {
      try {
        await writeRunRecord(store, recordKey, sent);
        break;
      } catch (error) {
        if (tries >= 3) throw error;
      }
    }
  }
  return { status: 'sent', outcomes };
}

export interface NotifyInput {
  readonly manifest: Manifest;
  readonly manifestKey: string;
  readonly linkSeconds: number;
}

/** Mints links for the manifest and every file, then tells every consumer. Outcomes are recorded, never thrown. */
export async function notifyDelivered(
  input: NotifyInput,
  deps: { signer: LinkSigner; notifiers: readonly Notifier[]; clock: Clock },
): Promise<{ event: DropEvent; outcomes: NotifyOutcome[] }> {
  const { manifest, manifestKey, linkSeconds } = input;
  const dropPrefix = manifestKey.slice(0, manifestKey.length - 'manifest.json'.length);
  const files = [];
  for (const f of manifest.files) {
    files.push({ path: f.path, format: f.format, rows: f.rows, bytes: f.bytes, sha256: f.sha256, link: await deps.signer.sign(dropPrefix + f.path, linkSeconds) });
  }
  const event: DropEvent = {
    type: 'drop.delivered',
    id: manifest.runId,
    feed: manifest.feed,
    partner: manifest.partner,
    runId: manifest.runId,
    revision: manifest.revision,
    slot: manifest.slot.id,
    occurredAt: deps.clock.now().toISOString(),
    manifest: { key: manifestKey, link: await deps.signer.sign(manifestKey, linkSeconds) },
    files,
    sla: { expectedBy: manifest.sla.expectedBy, deliveredAt: manifest.sla.deliveredAt, status: manifest.sla.status },
    rowCount: manifest.rowCount,
  };
  return { event, outcomes: await sendAll(event, deps.notifiers) };
}

export function failureEvent(plan: RunPlan, step: string, error: { name: string; message: string }, now: Date): DropEvent {
  return {
    type: 'run.failed',
    id: `${plan.runId}.failed`,
    feed: plan.feed,
    partner: plan.partner,
    runId: plan.runId,
    revision: plan.revision,
    slot: plan.slot.id,
    occurredAt: now.toISOString(),
    error: { step, name: error.name, message: error.message },
  };
}

export async function sendAll(event: DropEvent, notifiers: readonly Notifier[]): Promise<NotifyOutcome[]> {
  return Promise.all(notifiers.map((n) => n.notify(event)));
}
