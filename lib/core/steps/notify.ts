import type { Clock } from '../ports/clock';
import type { LinkSigner } from '../ports/link-signer';
import type { DropDeliveredEvent, DropEvent, DropLinks, Notifier, NotifyOutcome, RunFailedEvent } from '../ports/notifier';
import { parseDurationSeconds } from '../duration';
import { dropPrefixOfManifest, manifestKey, runRecordKey } from '../layout';
import { dataUpdateEvent, noticeAbout, schemaChangeEvent, supersedesOf } from '../notices/events';
import type { ObjectStore } from '../ports/object-store';
import type { Manifest } from '../manifest';
import { previousDrop, RunPlan, DeliveredRef } from './run-plan';
import type { RunRecord } from '../run-record';
import { readRunRecord, writeRunRecord } from '../run-record-store';
import type { StepDeps } from './step-deps';
import { parseStoreJson } from '../store-json';
import { manifestSchema } from '../manifest-schema';

export interface NotifyResult {
  readonly status: 'sent' | 'already-sent';
  readonly outcomes: readonly NotifyOutcome[];
}

/**
 * The notify step: links for the manifest and every file, then every consumer is told. Delivery is
 * at least once, never silently zero: the run record gets the intent first (the notice's time, so
 * every resend carries the same body), then each target is marked in it as soon as it has the
 * notice, then the notice is marked sent. A run that dies mid-way is finished by the next run or
 * `dropkit repair`, which sends again only to the targets not marked (a target that got it just
 * before the death gets it twice, with the same `Idempotency-Key`). A notice that reached no target
 * is not marked sent: the next run or repair tries again. `resend` sends it again on purpose, to
 * every target, with the same id and time. Outcomes are recorded, never thrown: the drop stays delivered.
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
  const manifest = parseStoreJson(ref.manifestKey, got.body, manifestSchema);
  const feed = deps.feeds.get(ref.feed);
  const linkSeconds = parseDurationSeconds(feed.spec.links.expiresIn)!;
  const notifiers = deps.consumers(feed, ref.partner);
  // The notice's time is fixed by its first intent: a repair or `dropkit notify` sends the same body.
  const occurredAt = record?.notice?.occurredAt ?? deps.clock.now().toISOString();
  const sentTo = new Map(Object.entries(options.resend ? {} : (record?.notice?.sentTo ?? {})).map(([id, targets]) => [id, new Set(targets)]));
  const marks = record ? noticeMarks(store, recordKey, record, occurredAt, sentTo) : undefined;
  await marks?.write();

  const at = new Date(occurredAt);
  const { event, outcomes: delivered } = await notifyDelivered(
    { manifest, manifestKey: ref.manifestKey, linkSeconds, occurredAt: at },
    {
      signer: deps.signer,
      notifiers: notifiers.filter((n) => !sentTo.get(ref.runId)?.has(n.target)),
      clock: deps.clock,
      onSent: (id, target) => marks?.sent(id, target),
    },
  );
  // What partners must act on besides the new drop: a changed schema, a revision that replaces one.
  const followUps = await followUpNotices(store, ref, manifest, at, event);
  const followed = await Promise.all(
    followUps.map((e) =>
      sendAll(
        e,
        notifiers.filter((n) => !sentTo.get(e.id)?.has(n.target)),
        (target) => marks?.sent(e.id, target),
      ),
    ),
  );
  await marks?.settled();
  const outcomes = [...delivered, ...followed.flat()];
  if (record) {
    // Reached nobody (every target failed): not sent; the next run or `dropkit repair` tries again.
    const reached = notifiers.length === 0 || notifiers.some((n) => sentTo.get(event.id)?.has(n.target));
    const sent: RunRecord = {
      ...record,
      step: 'notify',
      noticeSent: reached,
      notice: { occurredAt, sentTo: marks!.snapshot() },
      notifications: outcomes,
      pending: [...record.pending.filter((p) => !p.startsWith('notify')), ...(reached ? [] : ['notify: the drop.delivered notice reached no target'])],
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

/**
 * Keeps the run record's list of targets that have each notice, written after each one (one write
 * at a time, in order), so a run that dies mid-notice leaves a true list behind.
 */
function noticeMarks(store: ObjectStore, key: string, record: RunRecord, occurredAt: string, sentTo: Map<string, Set<string>>) {
  let chain: Promise<void> = Promise.resolve();
  const snapshot = () => Object.fromEntries([...sentTo].map(([id, targets]) => [id, [...targets].sort()]));
  const write = () => writeRunRecord(store, key, { ...record, step: 'notify', noticeSent: false, notice: { occurredAt, sentTo: snapshot() } });
  return {
    snapshot,
    write,
    sent(id: string, target: string) {
      sentTo.set(id, (sentTo.get(id) ?? new Set()).add(target));
      // A mark that cannot be written only means that target may hear it again.
      chain = chain.then(write).catch(() => undefined);
    },
    settled: () => chain,
  };
}

/** `schema.change` against the drop before (the superseded revision, or the slot before), and `data.update` for a rerun. */
async function followUpNotices(store: ObjectStore, ref: DeliveredRef, manifest: Manifest, now: Date, links: DropLinks): Promise<DropEvent[]> {
  const c = { prefix: ref.prefix, feed: ref.feed, partner: ref.partner };
  const readManifest = async (key: string) => {
    const got = await store.get(key).catch(() => undefined);
    return got ? parseStoreJson(key, got.body, manifestSchema) : null;
  };
  let previous: Manifest | null = null;
  if (manifest.supersedes) previous = await readManifest(manifestKey(c, ref.slot, manifest.supersedes));
  else {
    const before = await previousDrop(store, c, ref.slot);
    if (before) previous = await readManifest(manifestKey(c, before.slot, before.runId));
  }
  const events: (DropEvent | null)[] = [
    schemaChangeEvent(previous, manifest, now),
    dataUpdateEvent(manifest, manifest.supersedes ? previous : null, now, links),
  ];
  return events.filter((e): e is DropEvent => e !== null);
}

export interface NotifyInput {
  readonly manifest: Manifest;
  readonly manifestKey: string;
  readonly linkSeconds: number;
  /** The notice's time (default now): a resend gives the first one's. */
  readonly occurredAt?: Date;
}

/** Mints links for the manifest and every file, then tells every consumer. Outcomes are recorded, never thrown. */
export async function notifyDelivered(
  input: NotifyInput,
  deps: { signer: LinkSigner; notifiers: readonly Notifier[]; clock: Clock; onSent?: (id: string, target: string) => void },
): Promise<{ event: DropDeliveredEvent; outcomes: NotifyOutcome[] }> {
  const { manifest, manifestKey, linkSeconds } = input;
  const dropPrefix = dropPrefixOfManifest(manifestKey);
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
  const event: DropDeliveredEvent = {
    type: 'drop.delivered',
    id: manifest.runId,
    ...noticeAbout({ ...manifest, slot: manifest.slot.id }, input.occurredAt ?? deps.clock.now()),
    manifest: { key: manifestKey, link: await deps.signer.sign(manifestKey, linkSeconds) },
    files,
    sla: { expectedBy: manifest.sla.expectedBy, deliveredAt: manifest.sla.deliveredAt, status: manifest.sla.status },
    rowCount: manifest.rowCount,
    supersedes: supersedesOf(manifest),
  };
  return { event, outcomes: await sendAll(event, deps.notifiers, (target) => deps.onSent?.(event.id, target)) };
}

export function failureEvent(plan: RunPlan, step: string, error: { name: string; message: string }, now: Date): RunFailedEvent {
  return {
    type: 'run.failed',
    id: `${plan.runId}.failed`,
    ...noticeAbout({ ...plan, slot: plan.slot.id }, now),
    error: { step, name: error.name, message: error.message },
  };
}

/** Tells every notifier at once; `onSent` hears of each target that has it, as soon as it has it. */
export async function sendAll(event: DropEvent, notifiers: readonly Notifier[], onSent?: (target: string) => void): Promise<NotifyOutcome[]> {
  return Promise.all(
    notifiers.map(async (n) => {
      const outcome = await n.notify(event);
      if (outcome.status !== 'failed') onSent?.(n.target);
      return outcome;
    }),
  );
}
