import type { DownloadLink } from './link-signer';

/** What consumers are told. The same body goes to SNS, EventBridge, webhooks and the outbox. */
export interface DropEvent {
  readonly type: 'drop.delivered' | 'run.failed';
  /** Idempotency key: a consumer that sees the same id twice has already had this event. */
  readonly id: string;
  readonly feed: string;
  readonly partner: string | null;
  readonly runId: string;
  readonly revision: number;
  readonly slot: string;
  readonly occurredAt: string;
  /** Delivered drops only. */
  readonly manifest?: { readonly key: string; readonly link: DownloadLink };
  readonly files?: readonly { readonly path: string; readonly format: string; readonly rows: number; readonly bytes: number; readonly sha256: string; readonly link: DownloadLink }[];
  readonly sla?: { readonly expectedBy: string; readonly deliveredAt: string; readonly status: 'MET' | 'LATE' };
  readonly rowCount?: number;
  /** Failed runs only. */
  readonly error?: { readonly step: string; readonly name: string; readonly message: string };
}

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
