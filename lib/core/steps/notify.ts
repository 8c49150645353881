import type { Clock } from '../../ports/clock';
import type { LinkSigner } from '../../ports/link-signer';
import type { DropEvent, Notifier, NotifyOutcome } from '../../ports/notifier';
import type { Manifest } from '../manifest';
import type { RunPlan } from './plan';

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
