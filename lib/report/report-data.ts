import type { FeedFile } from '../core/feed/feed-schema';
import { latestKey } from '../core/layout';
import type { LatestPointer, Manifest } from '../core/manifest';
import { scheduleInWords, slaInWords } from '../core/schedule-words';
import { deliveryRecord } from '../core/sla-watch/delivery-record';
import type { SlaState, SlotStatus } from '../core/sla-watch/slot-state';
import type { ObjectStore } from '../ports/object-store';
import { feedProfileReport, FeedProfileReport } from './profile-data';

/** Everything the report shows, as plain JSON: the renderers are pure functions of it. */
export interface ReportData {
  readonly project: string;
  readonly generatedAt: string;
  readonly window: { readonly from: string; readonly to: string };
  readonly feeds: readonly FeedReport[];
}

export interface ReportSlot {
  readonly slot: string;
  readonly partner: string | null;
  readonly scheduledFor: string;
  readonly expectedBy: string;
  readonly deliveredAt: string | null;
  readonly state: SlaState;
  readonly latenessSeconds: number | null;
  readonly rowCount: number | null;
  readonly revision: number | null;
  readonly detail: string;
  /** Store key of the newest manifest of the slot. */
  readonly manifest: string | null;
}

export interface FeedReport {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly schedule: { readonly cron: string; readonly timezone: string; readonly words: string };
  readonly sla: string;
  readonly formats: readonly string[];
  readonly delivery: 'shared' | 'per-partner';
  readonly partners: readonly { readonly id: string; readonly name: string | null }[];
  /** State of the newest slot that is past PENDING (PENDING when none is). */
  readonly state: SlaState | 'NO_SLOTS';
  readonly stateDetail: string;
  readonly counts: Readonly<Record<'MET' | 'LATE' | 'MISSED' | 'FAILED', number>>;
  /** Oldest first. */
  readonly slots: readonly ReportSlot[];
  /** Columns of the newest delivered drop. */
  readonly latestSchema: {
    readonly slot: string;
    readonly partner: string | null;
    readonly columns: readonly { readonly name: string; readonly type: string; readonly nullable: boolean }[];
  } | null;
  /** The declared `schema` check, if any. */
  readonly schemaCheck: {
    readonly columns: readonly { readonly name: string; readonly type: string }[];
    readonly allowExtra: boolean;
    readonly ordered: boolean;
  } | null;
  readonly checks: readonly { readonly name: string; readonly type: string; readonly severity: string; readonly settings: string }[];
  /** Newest delivered drops first (at most 10). */
  readonly drops: readonly ReportSlot[];
  /** Column profiles, drift and a sample of the latest drop (profile-section.ts). */
  readonly profile?: FeedProfileReport;
}

export interface ReportRequest {
  readonly project: string;
  readonly feeds: readonly FeedFile[];
  readonly prefix: string;
  readonly exceptDates: readonly string[];
  readonly now: Date;
  /** Days of history shown (default 30). */
  readonly days?: number;
}

function checkSettings(check: Record<string, unknown>): string {
  return Object.entries(check)
    .filter(([k]) => !['type', 'severity', 'name'].includes(k))
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('; ');
}

function toReportSlot(s: SlotStatus): ReportSlot {
  return {
    slot: s.slot,
    partner: s.partner,
    scheduledFor: s.scheduledFor,
    expectedBy: s.expectedBy,
    deliveredAt: s.deliveredAt,
    state: s.state,
    latenessSeconds: s.latenessSeconds,
    rowCount: s.rowCount,
    revision: s.revision,
    detail: s.detail,
    manifest: s.manifest,
  };
}

async function latestManifest(store: ObjectStore, prefix: string, feed: FeedFile): Promise<Manifest | null> {
  const partners = feed.delivery === 'per-partner' ? feed.partners.map((p) => p.id) : [null];
  let newest: Manifest | null = null;
  for (const partner of partners) {
    const key = latestKey({ prefix, feed: feed.name, partner });
    const got = await store.get(key);
    if (!got) continue;
    const pointer = JSON.parse(got.body.toString('utf8')) as LatestPointer;
    const manifestKey = key.slice(0, key.length - 'latest.json'.length) + pointer.manifest;
    const m = await store.get(manifestKey);
    const manifest = m ? (JSON.parse(m.body.toString('utf8')) as Manifest) : null;
    if (manifest && (!newest || manifest.slot.id > newest.slot.id)) newest = manifest;
  }
  return newest;
}

/** Reads what the report shows from the store: the delivery record of each feed and its latest drop. */
export async function buildReportData(request: ReportRequest, store: ObjectStore): Promise<ReportData> {
  const days = request.days ?? 30;
  const from = new Date(request.now.getTime() - days * 86_400_000);
  const feeds: FeedReport[] = [];
  for (const f of request.feeds) {
    const record = await deliveryRecord({ feed: f, prefix: request.prefix, from, to: request.now, now: request.now, exceptDates: request.exceptDates }, store);
    const slots = record.map(toReportSlot);
    const settled = [...slots].reverse().find((s) => s.state !== 'PENDING');
    const current = settled ?? slots[slots.length - 1];
    const count = (state: SlaState) => slots.filter((s) => s.state === state).length;
    const latest = await latestManifest(store, request.prefix, f);
    const schema = f.checks.find((c) => c.type === 'schema') as
      { columns: { name: string; type: string }[]; allowExtra?: boolean; ordered?: boolean } | undefined;
    feeds.push({
      name: f.name,
      description: f.description,
      owner: f.owner,
      schedule: { cron: f.schedule.cron, timezone: f.schedule.timezone, words: scheduleInWords(f.schedule.cron) },
      sla: slaInWords(f.sla),
      formats: Object.keys(f.formats).filter((k) => (f.formats as Record<string, unknown>)[k] !== undefined),
      delivery: f.delivery,
      partners: f.partners.map((p) => ({ id: p.id, name: p.name ?? null })),
      state: current?.state ?? 'NO_SLOTS',
      stateDetail: current ? `${current.slot}${current.partner ? ` (${current.partner})` : ''}: ${current.detail}` : `no slot in the last ${days} days`,
      counts: { MET: count('MET'), LATE: count('LATE'), MISSED: count('MISSED'), FAILED: count('FAILED') },
      slots,
      latestSchema: latest
        ? { slot: latest.slot.id, partner: latest.partner, columns: latest.schema.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })) }
        : null,
      schemaCheck: schema
        ? { columns: schema.columns.map((c) => ({ name: c.name, type: c.type })), allowExtra: schema.allowExtra ?? false, ordered: schema.ordered ?? false }
        : null,
      checks: f.checks.map((c) => {
        const check = c as unknown as Record<string, unknown>;
        return {
          name: String(check.name ?? check.type),
          type: String(check.type),
          severity: String(check.severity ?? 'error'),
          settings: checkSettings(check),
        };
      }),
      drops: slots
        .filter((s) => s.manifest !== null)
        .reverse()
        .slice(0, 10),
      profile: await feedProfileReport(
        store,
        f,
        slots.flatMap((s) => (s.manifest ? [s.manifest] : [])),
      ),
    });
  }
  return { project: request.project, generatedAt: request.now.toISOString(), window: { from: from.toISOString(), to: request.now.toISOString() }, feeds };
}
