import type { Clock } from '../../ports/clock';
import type { LinkSigner } from '../../ports/link-signer';
import type { DropEvent, Notifier, NotifyOutcome } from '../../ports/notifier';
import { parseDurationSeconds } from '../duration';
import { manifestKey, runRecordKey } from '../layout';
import { dataUpdateEvent, schemaChangeEvent, supersedesOf } from '../notices/events';
import type { ObjectStore } from '../../ports/object-store';
import type { Manifest } from '../manifest';
import { previousDrop, RunPlan, DeliveredRef } from './plan';
import type { RunRecord } from '../run-record';
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
export async function notifyStep(
  ref: DeliveredRef,
  deps: Pick<StepDeps, 'store' | 'signer' | 'clock' | 'feeds' | 'consumers'>,
  options: { resend?: boolean } = {},
): Promise<NotifyResult> {
  const { store } = deps;
  const recordKey = runRecordKey(ref, ref.slot, ref.runId);
  const record = await readRunRecord(store, recordKey);
  if (record?.noticeSent && !options.resend) return { status: 'already-sent', outcomes: record.notifications };
  const got = await store.get(ref.manifestKey);
  if (!got) throw new Error(`${ref.manifestKey} is not in the store: run ${ref.runId} was not delivered`);
  const manifest = JSON.parse(got.body.toString('utf8')) as Manifest;
  const feed = deps.feeds.get(ref.feed);
  const linkSeconds = parseDurationSeconds(feed.spec.links.expiresIn)!;
  const notifiers = deps.consumers(feed, ref.partner);
  const { event: deliveredEvent, outcomes: delivered } = await notifyDelivered(
    { manifest, manifestKey: ref.manifestKey, linkSeconds },
    { signer: deps.signer, notifiers, clock: deps.clock },
  );
  // What partners must act on besides the new drop: a changed schema, a revision that replaces one.
  const followUps = await followUpNotices(store, ref, manifest, deps.clock.now(), deliveredEvent);
  const outcomes = [...delivered, ...(await Promise.all(followUps.map((e) => sendAll(e, notifiers)))).flat()];
  if (record) {
    const sent: RunRecord = {
      ...record,
      step: 'notify',
      noticeSent: true,
      notifications: outcomes,
      pending: record.pending.filter((p) => !p.startsWith('notify')),
    };
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

/** `schema.change` against the drop before (the superseded revision, or the slot before), and `data.update` for a rerun. */
async function followUpNotices(
  store: ObjectStore,
  ref: DeliveredRef,
  manifest: Manifest,
  now: Date,
  links: Pick<DropEvent, 'manifest' | 'files'>,
): Promise<DropEvent[]> {
  const c = { prefix: ref.prefix, feed: ref.feed, partner: ref.partner };
  const readManifest = async (key: string) => {
    const got = await store.get(key).catch(() => undefined);
    return got ? (JSON.parse(got.body.toString('utf8')) as Manifest) : null;
  };
  let previous: Manifest | null = null;
  if (manifest.supersedes) previous = await readManifest(manifestKey(c, ref.slot, manifest.supersedes));
  else {
    const before = await previousDrop(store, c, ref.slot);
    if (before) previous = await readManifest(manifestKey(c, before.slot, before.runId));
  }
  return [schemaChangeEvent(previous, manifest, now), dataUpdateEvent(manifest, manifest.supersedes ? previous : null, now, links)].filter(
    (e): e is DropEvent => e !== null,
  );
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
    files.push({
      path: f.path,
      format: f.format,
      rows: f.rows,
      bytes: f.bytes,
      sha256: f.sha256,
      link: await deps.signer.sign(dropPrefix + f.path, linkSeconds),
    });
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
    supersedes: supersedesOf(manifest),
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
