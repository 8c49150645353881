import { noticeAbout } from '../notices/events';
import type { Clock } from '../ports/clock';
import type { DropEvent, Notifier, NotifyOutcome } from '../ports/notifier';
import { ObjectStore, PreconditionFailed } from '../ports/object-store';
import { parseDurationSeconds } from '../duration';
import { DropkitError } from '../errors';
import { slaStateKey } from '../layout';
import { evidenceOf, firstRecordedSlot, readSlotEvidence } from './delivery-evidence';
import { expectedSlots, markBeforeFirstRecord, WatchedFeed } from './expected-slots';
import { delayPhase, SLA_STATES, SlaState, slotState, SlotStatus } from './slot-state';
import { parseStoreJson } from '../store-json';
import { slotWatchRecordSchema } from '../store-records';

/** What the watch is asked: plain JSON, so a scheduled Lambda can pass it as its event. */
export interface SlaWatchInput {
  readonly feeds: readonly WatchedFeed[];
  /** Key prefix of the store (the project's `prefix`). */
  readonly prefix?: string;
  /** Project-wide calendar exceptions (local dates, YYYY-MM-DD). */
  readonly exceptDates?: readonly string[];
  /** "Now" as ISO-8601; default the clock's. */
  readonly at?: string;
  /** How far back slots are watched (ISO-8601 duration, default P2D): a new deployment does not flood. */
  readonly lookBack?: string;
  /** false: report only, tell nobody and write nothing. Default true. */
  readonly notify?: boolean;
}

export interface SlaWatchDeps {
  readonly store: ObjectStore;
  readonly clock: Clock;
  readonly notifiers: {
    /** Partners of a feed (and partner): they hear of delays and recoveries. */
    consumers(feed: string, partner: string | null): readonly Notifier[];
    /** The feed's operators: they hear of delays and of failed runs. */
    readonly operators: readonly Notifier[];
  };
}

/** One notice the watch sent in this call. */
export interface WatchNotice {
  readonly id: string;
  readonly type: DropEvent['type'];
  readonly feed: string;
  readonly partner: string | null;
  readonly slot: string;
  readonly audience: 'consumers' | 'operators' | 'both';
  readonly outcomes: readonly NotifyOutcome[];
}

export interface SlaWatchOutput {
  readonly at: string;
  readonly window: { readonly from: string; readonly to: string };
  /** Every watched slot, by feed, then partner, then slot (oldest first). */
  readonly slots: readonly SlotStatus[];
  readonly counts: Readonly<Record<SlaState, number>>;
  /** true when every slot is MET, LATE or NOT_EXPECTED. */
  readonly allDelivered: boolean;
  /** true when some slot is AT_RISK, MISSED or FAILED. */
  readonly attention: boolean;
  readonly notices: readonly WatchNotice[];
  /** Slots whose state object kept changing under us (another watch): they are told next time. */
  readonly conflicts: readonly string[];
}

/** One notice as kept in a slot's state object. */
export interface ToldNotice {
  readonly id: string;
  readonly type: DropEvent['type'];
  /** claimed: written before sending (so a racing watch does not send it too); then sent or failed. */
  readonly status: 'claimed' | 'sent' | 'failed';
  readonly claimedAt: string;
  readonly outcomes?: readonly NotifyOutcome[];
}

/** `_sla/<feed>/[partner=<id>/]slot=<id>.json`: what the watch last saw and has told about a slot. */
export interface SlotWatchRecord {
  readonly version: 1;
  readonly feed: string;
  readonly partner: string | null;
  readonly slot: string;
  readonly state: SlaState;
  readonly updatedAt: string;
  /** Each change of state, oldest first. */
  readonly changes: readonly { readonly state: SlaState; readonly at: string }[];
  readonly notices: readonly ToldNotice[];
}

const DEFAULT_LOOK_BACK = 'P2D';
/** A claim older than this whose sender never reported back (it died) is sent again. */
const STALE_CLAIM_MS = 15 * 60_000;
const MAX_ATTEMPTS = 5;

interface Planned {
  readonly event: DropEvent;
  readonly audience: WatchNotice['audience'];
}

function keyPart(s: SlotStatus): string {
  return `sla:${s.feed}:${s.partner ?? '-'}:${s.slot}`;
}

/** The idempotency key of a delay notice of a slot: the same for every watch that sends it. */
export function delayNoticeId(s: Pick<SlotStatus, 'feed' | 'partner' | 'slot'>, kind: 'at_risk' | 'missed' | 'recovered'): string {
  return `sla:${s.feed}:${s.partner ?? '-'}:${s.slot}:${kind === 'recovered' ? 'data.delay.recovered' : `data.delay.${kind}`}`;
}

/** The notices a slot calls for that have not been told yet. Pure. */
export function noticesDue(s: SlotStatus, told: readonly ToldNotice[], now: Date, owner: string | null = null): Planned[] {
  const done = new Set(
    told.filter((n) => n.status === 'sent' || (n.status === 'claimed' && now.getTime() - Date.parse(n.claimedAt) < STALE_CLAIM_MS)).map((n) => n.id),
  );
  const ever = new Set(told.map((n) => n.id));
  const out: Planned[] = [];
  const common = noticeAbout(s, now);
  const phase = delayPhase(s, now);
  const missedId = delayNoticeId(s, 'missed');
  const atRiskId = delayNoticeId(s, 'at_risk');
  // A slot found already missed is announced as missed only, not at risk first.
  const delayId = phase === 'missed' ? missedId : phase === 'at_risk' && !ever.has(missedId) ? atRiskId : null;
  if (phase && delayId && !done.has(delayId)) {
    out.push({
      audience: 'both',
      event: {
        type: 'data.delay',
        id: delayId,
        ...common,
        delay: {
          phase,
          scheduledFor: s.scheduledFor,
          expectedBy: s.expectedBy,
          missedAt: s.missedAt,
          state: s.state,
          detail: s.detail,
          // Whom partners can ask, and until when the drop is still promised.
          owner,
          eta: phase === 'at_risk' ? s.expectedBy : null,
        },
      },
    });
  }
  const delayed = ever.has(missedId) || ever.has(atRiskId);
  const recoveredId = delayNoticeId(s, 'recovered');
  if ((s.state === 'MET' || s.state === 'LATE') && delayed && !done.has(recoveredId)) {
    out.push({
      audience: 'both',
      event: {
        type: 'data.delay.recovered',
        id: recoveredId,
        ...common,
        rowCount: s.rowCount ?? undefined,
        recovery: { expectedBy: s.expectedBy, deliveredAt: s.deliveredAt!, latenessSeconds: s.latenessSeconds ?? 0, status: s.state },
      },
    });
  }
  if (s.state === 'FAILED' && s.failure) {
    const f = s.failure;
    const event: DropEvent =
      f.kind === 'validation'
        ? {
            type: 'validation.failed',
            id: `${f.runId}.validation-failed`,
            ...common,
            audience: 'operators',
            validation: { status: s.validation ?? 'fail', failed: f.checks },
            error: { step: f.step, name: f.name, message: f.message },
          }
        : // The run sent this notice itself under the same id: a receiver that already has it drops it.
          { type: 'run.failed', id: `${f.runId}.failed`, ...common, audience: 'operators', error: { step: f.step, name: f.name, message: f.message } };
    if (!done.has(event.id)) out.push({ audience: 'operators', event });
  }
  return out;
}

function lookBackMs(text: string): number {
  const s = parseDurationSeconds(text);
  if (s === undefined || s <= 0) throw new DropkitError(`lookBack "${text}" is not a positive ISO-8601 duration such as P2D or PT12H`);
  return s * 1000;
}

async function readRecord(store: ObjectStore, key: string): Promise<{ record: SlotWatchRecord; etag: string } | undefined> {
  const got = await store.get(key);
  return got ? { record: parseStoreJson(key, got.body, slotWatchRecordSchema), etag: got.etag } : undefined;
}

function summarise(outcomes: readonly NotifyOutcome[]): ToldNotice['status'] {
  // Nobody to tell counts as told; otherwise one target reached is enough (webhooks retry themselves).
  return outcomes.length === 0 || outcomes.some((o) => o.status !== 'failed') ? 'sent' : 'failed';
}

/**
 * The SLA watch (a dead man's switch): works out which slots should exist in the look-back window,
 * gives each its state, and tells partners and operators once per change, with idempotency keys.
 * Each slot's state object is claimed with a conditional write before anything is sent, so of two
 * watches racing only the one whose write lands sends; the other re-reads and finds it told.
 */
export async function slaWatch(input: SlaWatchInput, deps: SlaWatchDeps): Promise<SlaWatchOutput> {
  const now = input.at ? new Date(input.at) : deps.clock.now();
  if (Number.isNaN(now.getTime())) throw new DropkitError(`at "${input.at}" is not an ISO-8601 time`);
  const from = new Date(now.getTime() - lookBackMs(input.lookBack ?? DEFAULT_LOOK_BACK));
  const prefix = input.prefix ?? '';
  const slots: SlotStatus[] = [];
  const notices: WatchNotice[] = [];
  const conflicts: string[] = [];

  for (const feed of input.feeds) {
    const expected = expectedSlots(feed, { from, to: now }, input.exceptDates ?? []);
    const partners = [...new Set(expected.map((e) => e.partner))];
    for (const partner of partners) {
      const c = { prefix, feed: feed.name, partner };
      let mine = expected.filter((e) => e.partner === partner);
      if (feed.start === undefined) mine = markBeforeFirstRecord(mine, await firstRecordedSlot(deps.store, c));
      // Nothing is owed before the feed's start: no state, no notice.
      mine = mine.filter((e) => e.beforeStart === null);
      const evidence = await readSlotEvidence(
        deps.store,
        c,
        mine.map((e) => e.slot),
      );
      for (const e of mine) {
        const status = slotState(e, evidenceOf(evidence, e.slot), now);
        slots.push(status);
        if (input.notify === false) continue;
        const told = await tell(status, slaStateKey(c, e.slot), now, deps, feed.owner ?? null);
        if (told === 'conflict') conflicts.push(keyPart(status));
        else notices.push(...told);
      }
    }
  }
  const counts = Object.fromEntries(SLA_STATES.map((s) => [s, 0])) as Record<SlaState, number>;
  for (const s of slots) counts[s.state]++;
  return {
    at: now.toISOString(),
    window: { from: from.toISOString(), to: now.toISOString() },
    slots,
    counts,
    allDelivered: slots.every((s) => s.state === 'MET' || s.state === 'LATE' || s.state === 'NOT_EXPECTED'),
    attention: slots.some((s) => s.state === 'AT_RISK' || s.state === 'MISSED' || s.state === 'FAILED'),
    notices,
    conflicts,
  };
}

/** Claims, sends and records the notices of one slot. */
async function tell(status: SlotStatus, key: string, now: Date, deps: SlaWatchDeps, owner: string | null): Promise<WatchNotice[] | 'conflict'> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await readRecord(deps.store, key);
    const told = current?.record.notices ?? [];
    const due = noticesDue(status, told, now, owner);
    const changed = current?.record.state !== status.state;
    if (!changed && due.length === 0) return [];
    const dueIds = new Set(due.map((d) => d.event.id));
    const claimed: SlotWatchRecord = {
      version: 1,
      feed: status.feed,
      partner: status.partner,
      slot: status.slot,
      state: status.state,
      updatedAt: now.toISOString(),
      changes: changed ? [...(current?.record.changes ?? []), { state: status.state, at: now.toISOString() }] : current!.record.changes,
      notices: [
        ...told.filter((n) => !dueIds.has(n.id)),
        ...due.map((d) => ({ id: d.event.id, type: d.event.type, status: 'claimed' as const, claimedAt: now.toISOString() })),
      ],
    };
    let etag: string;
    try {
      ({ etag } = await deps.store.put(key, JSON.stringify(claimed, null, 2) + '\n', {
        contentType: 'application/json',
        precondition: current ? { ifMatch: current.etag } : { ifNoneMatch: '*' },
      }));
    } catch (error) {
      if (error instanceof PreconditionFailed) continue; // another watch wrote first: look again
      throw error;
    }
    if (due.length === 0) return [];
    const sent: WatchNotice[] = [];
    for (const d of due) {
      const all = [
        ...(d.audience !== 'operators' ? deps.notifiers.consumers(status.feed, status.partner) : []),
        ...(d.audience !== 'consumers' ? deps.notifiers.operators : []),
      ];
      // A target that is both a consumer and an operator (a shared outbox) gets one copy.
      const targets = all.filter((n, i) => all.findIndex((m) => m.target === n.target) === i);
      const outcomes = await Promise.all(targets.map((n) => n.notify(d.event)));
      sent.push({ id: d.event.id, type: d.event.type, feed: status.feed, partner: status.partner, slot: status.slot, audience: d.audience, outcomes });
    }
    const byId = new Map(sent.map((s) => [s.id, s.outcomes]));
    const recorded: SlotWatchRecord = {
      ...claimed,
      notices: claimed.notices.map((n) => (byId.has(n.id) ? { ...n, status: summarise(byId.get(n.id)!), outcomes: byId.get(n.id) } : n)),
    };
    // Best effort: if another watch moved the object meanwhile, the claim still stands.
    await deps.store.put(key, JSON.stringify(recorded, null, 2) + '\n', { contentType: 'application/json', precondition: { ifMatch: etag } }).catch((e) => {
      if (!(e instanceof PreconditionFailed)) throw e;
    });
    return sent;
  }
  return 'conflict';
}
