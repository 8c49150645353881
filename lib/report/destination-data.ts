import { destinationTarget } from '../core/destinations/delivery-section';
import { destinationSpecs } from '../core/destinations/plans';
import type { FeedFile } from '../core/feed/feed-schema';
import { parseDropKey, runRecordKey } from '../core/layout';
import { parseRunRecord } from '../core/run-record';
import type { DestinationRecord } from '../core/ports/destination';
import type { ObjectStore } from '../core/ports/object-store';
import type { ReportSlot } from './report-data';

/** One destination of a feed (for one partner) and the last thing it did: what the report shows. */
export interface DestinationReport {
  /** The partner whose drops go there (per-partner feeds); null for a shared feed. */
  readonly partner: string | null;
  readonly destination: string;
  readonly kind: string;
  readonly target: string;
  readonly mode: string;
  /** The newest delivered drop's push to it; `pending` when that drop has no record of it yet; null before any drop. */
  readonly last: {
    readonly slot: string;
    readonly runId: string;
    readonly status: DestinationRecord['status'] | 'pending';
    readonly finishedAt: string | null;
    readonly files: number;
    readonly bytes: number;
    readonly rowsSent: number;
    readonly rowsRejected: number;
    readonly error: string | null;
    readonly deadLetter: string | null;
  } | null;
}

/**
 * Every destination of a feed, per partner, with its outcome for the newest delivered drop, read
 * from that drop's run record (`destinations`). Reads one run record per partner.
 */
export async function feedDestinationsReport(
  store: ObjectStore,
  prefix: string,
  feed: FeedFile,
  slots: readonly ReportSlot[],
): Promise<DestinationReport[] | undefined> {
  const partners = feed.delivery === 'per-partner' ? feed.partners.map((p) => p.id) : [null];
  const out: DestinationReport[] = [];
  for (const partner of partners) {
    const specs = destinationSpecs(feed, partner);
    if (specs.length === 0) continue;
    const newest = [...slots].reverse().find((s) => s.partner === partner && s.manifest !== null);
    const run = newest?.manifest ? parseDropKey(newest.manifest) : undefined;
    const key = run ? runRecordKey({ prefix, feed: feed.name, partner }, run.slotId, run.runId) : undefined;
    const got = key ? await store.get(key).catch(() => undefined) : undefined;
    const records = got && key ? (parseRunRecord(got.body, key).destinations ?? []) : [];
    for (const spec of specs) {
      const r = records.find((x) => x.destination === spec.name);
      out.push({
        partner,
        destination: spec.name,
        kind: spec.type,
        target: destinationTarget(spec),
        mode: spec.sync,
        last: run
          ? {
              slot: run.slotId,
              runId: run.runId,
              status: r?.status ?? 'pending',
              finishedAt: r?.finishedAt ?? null,
              files: r?.files ?? 0,
              bytes: r?.bytes ?? 0,
              rowsSent: r?.rowsSent ?? 0,
              rowsRejected: r?.rowsRejected ?? 0,
              error: r?.status === 'failed' ? (r.errors[0]?.message ?? 'failed') : null,
              deadLetter: r?.deadLetter ?? null,
            }
          : null,
      });
    }
  }
  return out.length ? out : undefined;
}
