import type { FeedFile } from '../core/feed/feed-schema';
import { latestBase, latestKey } from '../core/layout';
import type { Manifest } from '../core/manifest';
import { scheduleInWords, slaInWords } from '../core/schedule-words';
import { deliveryRecord } from '../core/sla-watch/delivery-record';
import type { SlaState, SlotStatus } from '../core/sla-watch/slot-state';
import type { ObjectStore } from '../core/ports/object-store';
import type { MetricCard } from '../semantic/metric-usage';
import { feedProfileReport, FeedProfileReport } from './profile-data';
import { feedDestinationsReport, type DestinationReport } from './destination-data';
import { parseStoreJson } from '../core/store-json';
import { latestPointerSchema, manifestSchema } from '../core/manifest-schema';

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
  /** A FAILED slot's failing checks, e.g. "unique(id)", so the front page can name them. */
  readonly failedChecks: readonly string[];
}

/** Slot states a reader must act on, worst first. */
export const OPEN_PROBLEMS: readonly SlaState[] = ['FAILED', 'MISSED', 'AT_RISK'];

/**
 * The order "what is wrong now" sorts by, worst first: undelivered problems, then a recent LATE
 * delivery, then what is under way or fine.
 */
const SEVERITY: readonly (SlaState | 'NO_SLOTS')[] = ['FAILED', 'MISSED', 'AT_RISK', 'LATE', 'RUNNING', 'PENDING', 'MET', 'NOT_EXPECTED', 'NO_SLOTS'];

export function severityRank(state: SlaState | 'NO_SLOTS'): number {
  return SEVERITY.indexOf(state);
}

/** One partner's state (null: a shared feed): its worst open problem, else its newest settled slot. */
export interface PartnerState {
  readonly partner: string | null;
  readonly state: SlaState | 'NO_SLOTS';
  /** The slot that decides the state (the newest of the worst open problems). */
  readonly slot: ReportSlot | null;
  /** How many open problems (FAILED, MISSED, AT_RISK) this partner has in the window. */
  readonly openProblems: number;
}

/** One check's latest result: from the newest delivered drop, or a newer failed run. */
export interface LatestCheckResult {
  readonly name: string;
  readonly type: string;
  readonly severity: string;
  readonly outcome: string;
  readonly observed: string;
  readonly threshold: string;
  readonly message: string;
  readonly slot: string;
  readonly partner: string | null;
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
  /** The worst state over every partner's open problems and newest slot: what the front page sorts by. */
  readonly worst: SlaState | 'NO_SLOTS';
  /** Every partner's state (one entry, partner null, for a shared feed). */
  readonly partnerStates: readonly PartnerState[];
  /** FAILED, MISSED and AT_RISK slots of the window, worst first, newest first within a state. */
  readonly open: readonly ReportSlot[];
  readonly counts: Readonly<Record<CountedState, number>>;
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
  /** The latest result of each check (one per column for per-column checks); empty before any run. */
  readonly latestResults: readonly LatestCheckResult[];
  /** Newest delivered drops first (at most 10). */
  readonly drops: readonly ReportSlot[];
  /** For a feed written as a metric selection: its metrics, their definitions and the feeds serving each. */
  readonly metrics?: readonly MetricCard[];
  /** Column profiles, drift and a sample of the latest drop (profile-section.ts). */
  readonly profile?: FeedProfileReport;
  /** Where drops are pushed and the newest push's outcome, per partner (destination-data.ts); absent without destinations. */
  readonly destinations?: readonly DestinationReport[];
}

export const COUNTED_STATES = ['MET', 'LATE', 'AT_RISK', 'MISSED', 'FAILED'] as const;
export type CountedState = (typeof COUNTED_STATES)[number];

export interface ReportRequest {
  readonly project: string;
  readonly feeds: readonly FeedFile[];
  readonly prefix: string;
  readonly exceptDates: readonly string[];
  readonly now: Date;
  /** Days of history shown (default 30). */
  readonly days?: number;
  /** Metric cards per feed name, for the feeds that select metrics. */
  readonly metrics?: Readonly<Record<string, readonly MetricCard[]>>;
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
    failedChecks: s.failure?.checks.map((c) => c.name) ?? [],
  };
}

function shown(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Worst first; within a state, newest first. */
function byWorst(a: ReportSlot, b: ReportSlot): number {
  return severityRank(a.state) - severityRank(b.state) || b.slot.localeCompare(a.slot) || (a.partner ?? '').localeCompare(b.partner ?? '');
}

function partnerStates(feed: FeedFile, slots: readonly ReportSlot[]): PartnerState[] {
  const partners = feed.delivery === 'per-partner' ? feed.partners.map((p) => p.id) : [null];
  return partners.map((partner) => {
    const mine = slots.filter((s) => s.partner === partner);
    const open = mine.filter((s) => OPEN_PROBLEMS.includes(s.state)).sort(byWorst);
    const settled = [...mine].reverse().find((s) => s.state !== 'PENDING') ?? mine[mine.length - 1];
    const slot = open[0] ?? settled ?? null;
    return { partner, state: slot?.state ?? 'NO_SLOTS', slot, openProblems: open.length };
  });
}

/**
 * The latest result of every check: the newest delivered drop's validation, with the failing
 * checks of a newer FAILED (validation) slot laid over it, so a check that just failed shows so.
 */
function latestResults(latest: Manifest | null, slots: readonly ReportSlot[], failures: ReadonlyMap<string, SlotStatus>): LatestCheckResult[] {
  const results = new Map<string, LatestCheckResult>();
  for (const c of latest?.validation.checks ?? []) {
    results.set(c.name, {
      name: c.name,
      type: c.type,
      severity: c.severity,
      outcome: c.outcome,
      observed: shown(c.observed),
      threshold: shown(c.threshold),
      message: c.message,
      slot: latest!.slot.id,
      partner: latest!.partner,
    });
  }
  const newerFailed = slots.filter((s) => s.state === 'FAILED' && (!latest || s.slot > latest.slot.id));
  const newest = newerFailed[newerFailed.length - 1];
  const failure = newest ? failures.get(`${newest.slot}/${newest.partner ?? ''}`)?.failure : undefined;
  for (const c of failure?.checks ?? []) {
    results.set(c.name, {
      name: c.name,
      type: c.type,
      severity: c.severity,
      outcome: c.outcome,
      observed: '',
      threshold: '',
      message: c.message,
      slot: newest!.slot,
      partner: newest!.partner,
    });
  }
  return [...results.values()];
}

async function latestManifest(store: ObjectStore, prefix: string, feed: FeedFile): Promise<Manifest | null> {
  const partners = feed.delivery === 'per-partner' ? feed.partners.map((p) => p.id) : [null];
  let newest: Manifest | null = null;
  for (const partner of partners) {
    const key = latestKey({ prefix, feed: feed.name, partner });
    const got = await store.get(key);
    if (!got) continue;
    const pointer = parseStoreJson(key, got.body, latestPointerSchema);
    const manifestKey = latestBase(key) + pointer.manifest;
    const m = await store.get(manifestKey);
    const manifest = m ? parseStoreJson(manifestKey, m.body, manifestSchema) : null;
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
    const failures = new Map(record.filter((s) => s.failure).map((s) => [`${s.slot}/${s.partner ?? ''}`, s] as const));
    const perPartner = partnerStates(f, slots);
    const worst = perPartner.map((p) => p.state).sort((a, b) => severityRank(a) - severityRank(b))[0] ?? 'NO_SLOTS';
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
      worst,
      partnerStates: perPartner,
      open: slots.filter((s) => OPEN_PROBLEMS.includes(s.state)).sort(byWorst),
      counts: Object.fromEntries(COUNTED_STATES.map((s) => [s, count(s)])) as Record<CountedState, number>,
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
      latestResults: latestResults(latest, slots, failures),
      drops: slots
        .filter((s) => s.manifest !== null)
        .reverse()
        .slice(0, 10),
      ...(request.metrics?.[f.name] ? { metrics: request.metrics[f.name] } : {}),
      ...(await feedDestinationsReport(store, request.prefix, f, slots).then((d) => (d ? { destinations: d } : {}))),
      profile: await feedProfileReport(
        store,
        f,
        slots.flatMap((s) => (s.manifest ? [s.manifest] : [])),
      ),
    });
  }
  // What is wrong now comes first: the worst feeds at the top, then by name.
  feeds.sort((a, b) => severityRank(a.worst) - severityRank(b.worst) || a.name.localeCompare(b.name));
  return { project: request.project, generatedAt: request.now.toISOString(), window: { from: from.toISOString(), to: request.now.toISOString() }, feeds };
}
