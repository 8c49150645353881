import { releaseLease } from '../lib/core/lease';
import { leaseKey } from '../lib/core/layout';
import { notifyStep } from '../lib/core/steps/notify';
import type { ObjectStore } from '../lib/core/ports/object-store';
import { requireField, stepHandler } from './handler-kit';
import { runtime, LambdaDeps } from './runtime';
import type { NotifyEvent } from './step-events';
import { parseStoreJson } from '../lib/core/store-json';
import { leaseSchema } from '../lib/core/store-records';

/** Sends the delivered notice (once per run), then frees the slot if the publishing attempt still holds it. */
export function makeNotifyHandler(deps: () => Promise<Pick<LambdaDeps, 'store' | 'signer' | 'clock' | 'feeds' | 'consumers'>>) {
  return stepHandler(
    'notify',
    (e: NotifyEvent) => ({ feed: e.ref?.feed, runId: e.ref?.runId, partner: e.ref?.partner }),
    async (event: NotifyEvent) => {
      const ref = requireField<NotifyEvent['ref']>(event, 'ref');
      const d = await deps();
      const release = () => (event.attemptId ? releaseOwnLease(d.store, leaseKey(ref, ref.slot), event.attemptId).catch(() => false) : Promise.resolve(false));
      let notice;
      try {
        notice = await notifyStep(ref, d);
      } catch (error) {
        // Delivered either way: the slot is free for the next run, which finishes a notice left unsent (as the local runner does).
        await release();
        throw error;
      }
      return { ...notice, leaseReleased: await release() };
    },
  );
}

/**
 * The lease as publish last renewed it is not in the state (publish does not return it), so it is
 * read back and released only if this attempt still holds it.
 */
export async function releaseOwnLease(store: ObjectStore, key: string, attemptId: string): Promise<boolean> {
  const current = await store.get(key);
  if (!current) return false;
  const lease = parseStoreJson(key, current.body, leaseSchema);
  if (lease.attemptId !== attemptId || lease.released) return false;
  await releaseLease(store, { key, etag: current.etag, attemptId });
  return true;
}

export const handler = makeNotifyHandler(runtime);
