import type { DownloadLink } from './link-signer';
import type { SchemaChange } from '../notices/schema-change';
import type { Profile } from '../profile/profile';

/**
 * Every kind of notice (AWS Data Exchange names in brackets):
 * - `drop.delivered`: a drop is published, with links;
 * - `run.failed`: a run failed (operators);
 * - `data.delay` [DATA_DELAY]: a slot is at risk (past its warn point) or missed (past deadline + grace);
 * - `data.delay.recovered`: a slot that was announced as delayed has been delivered;
 * - `data.update` [DATA_UPDATE]: a rerun superseded a delivered drop;
 * - `schema.change` [SCHEMA_CHANGE]: columns or types differ from the previous drop;
 * - `validation.failed` [VALIDATION_FAILED]: a run's checks failed, nothing published (operators only);
 * - `approval.requested`: a drop is rendered and held for sign-off (operators' channels, for the approvers).
 */
export type DropEventType =
  'drop.delivered' | 'run.failed' | 'data.delay' | 'data.delay.recovered' | 'data.update' | 'schema.change' | 'validation.failed' | 'approval.requested';

/** What every notice carries, whatever its type. */
interface DropEventBase {
  /** Idempotency key: a consumer that sees the same id twice has already had this event. */
  readonly id: string;
  readonly feed: string;
  readonly partner: string | null;
  /** The run the event is about; a delay of a slot names the stuck or failed run, or null when no run is recorded. */
  readonly runId: string | null;
  /** null when no run is concerned (a delay before any run). */
  readonly revision: number | null;
  readonly slot: string;
  readonly occurredAt: string;
  /** Who the event is for: partners (consumers) or the feed's operators. Absent means consumers. */
  readonly audience?: 'consumers' | 'operators';
}

/** A drop's download links: the manifest's and each file's. `files` is left out when the list made a notice too big. */
export interface DropLinks {
  readonly manifest?: { readonly key: string; readonly link: DownloadLink };
  readonly files?: readonly {
    readonly path: string;
    readonly format: string;
    readonly rows: number;
    readonly bytes: number;
    readonly sha256: string;
    readonly link: DownloadLink;
  }[];
}

/** A delivered drop this one replaces (a rerun). */
export interface SupersededDrop {
  readonly runId: string;
  readonly revision: number;
}

export interface DropDeliveredEvent extends DropEventBase, DropLinks {
  readonly type: 'drop.delivered';
  readonly sla?: { readonly expectedBy: string; readonly deliveredAt: string; readonly status: 'MET' | 'LATE' };
  readonly rowCount?: number;
  /** The drop this one replaces (a rerun), or null. */
  readonly supersedes?: SupersededDrop | null;
}

export interface RunFailedEvent extends DropEventBase {
  readonly type: 'run.failed';
  readonly error: { readonly step: string; readonly name: string; readonly message: string };
}

export interface DataDelayEvent extends DropEventBase {
  readonly type: 'data.delay';
  readonly delay: {
    readonly phase: 'at_risk' | 'missed';
    readonly scheduledFor: string;
    readonly expectedBy: string;
    readonly missedAt: string;
    /** The slot's SLA state when noticed (AT_RISK, MISSED, RUNNING, FAILED). */
    readonly state: string;
    readonly detail: string;
    /** Whom to ask: the feed's owner. */
    readonly owner: string | null;
    /** When the drop is still expected: its deadline while only at risk; null once missed (ask the owner). */
    readonly eta: string | null;
  };
}

export interface DataDelayRecoveredEvent extends DropEventBase, DropLinks {
  readonly type: 'data.delay.recovered';
  readonly rowCount?: number;
  readonly recovery: { readonly expectedBy: string; readonly deliveredAt: string; readonly latenessSeconds: number; readonly status: 'MET' | 'LATE' };
}

export interface DataUpdateEvent extends DropEventBase, DropLinks {
  readonly type: 'data.update';
  readonly rowCount?: number;
  /** The drop this one replaces, as `drop.delivered` names it. */
  readonly supersedes?: SupersededDrop | null;
  readonly update: { readonly supersedes: SupersededDrop; readonly previousRowCount: number | null };
}

export interface SchemaChangeEvent extends DropEventBase {
  readonly type: 'schema.change';
  readonly schemaChange: SchemaChange;
  /** The previous drop the columns are compared with. */
  readonly update?: { readonly supersedes: SupersededDrop; readonly previousRowCount: number | null };
}

export interface ValidationFailedEvent extends DropEventBase {
  readonly type: 'validation.failed';
  /** The checks that failed. */
  readonly validation: {
    readonly status: string;
    readonly failed: readonly { readonly name: string; readonly type: string; readonly severity: string; readonly outcome: string; readonly message: string }[];
  };
  readonly error?: { readonly step: string; readonly name: string; readonly message: string };
}

export interface ApprovalRequestedEvent extends DropEventBase {
  readonly type: 'approval.requested';
  readonly rowCount?: number;
  /** Why the drop is held, who may decide and by when, and what it looks like. */
  readonly approval: {
    readonly approvers: readonly string[];
    readonly reasons: readonly string[];
    readonly deadline: string;
    readonly schema: readonly { readonly name: string; readonly type: string }[];
    readonly profile?: Profile;
    /** The first rows of the held drop, `pii: true` columns redacted. */
    readonly preview?: { readonly columns: readonly string[]; readonly rows: readonly (readonly (string | null)[])[]; readonly redacted: readonly string[] };
  };
}

/**
 * What consumers are told, one shape per `type`. The same body goes to SNS, EventBridge, webhooks
 * and the outbox.
 */
export type DropEvent =
  | DropDeliveredEvent
  | RunFailedEvent
  | DataDelayEvent
  | DataDelayRecoveredEvent
  | DataUpdateEvent
  | SchemaChangeEvent
  | ValidationFailedEvent
  | ApprovalRequestedEvent;

/** The event of one type, e.g. `DropEventOf<'data.delay'>`. */
export type DropEventOf<T extends DropEventType> = Extract<DropEvent, { readonly type: T }>;

export interface NotifyOutcome {
  readonly target: string;
  readonly status: 'sent' | 'failed' | 'skipped';
  readonly attempts: number;
  readonly detail?: string;
}

export interface Notifier {
  /** A short description of the target, e.g. `webhook https://partner.example/hook`. */
  readonly target: string;
  /** Never throws: a failure is reported in the outcome, the drop stays published. */
  notify(event: DropEvent): Promise<NotifyOutcome>;
}
