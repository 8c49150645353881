import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClientConfig, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { backoffDelay, sleep } from '../../core/retry';
import { fitNotice } from '../../core/notices/fit-notice';
import type { NoticeBody } from '../../core/notices/fit-notice';
import type { DropEvent, Notifier, NotifyOutcome } from '../../core/ports/notifier';
import { AWS_RETRY } from '../aws-retry';

/** EventBridge's limit on one entry. */
export const EVENTBRIDGE_MAX_ENTRY_BYTES = 262_144;
export const EVENT_SOURCE = 'dropkit';

/** detail-type per event type, what EventBridge rules match on. */
const DETAIL_TYPES: Readonly<Record<string, string>> = {
  'drop.delivered': 'Drop Delivered',
  'run.failed': 'Run Failed',
  'drop.late': 'Drop Late',
  'drop.superseded': 'Drop Superseded',
};

/** `drop.delivered` → `Drop Delivered`; an event type added later gets the same shape of name. */
export function detailTypeFor(type: string): string {
  return (
    DETAIL_TYPES[type] ??
    type
      .split(/[._-]/)
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join(' ')
  );
}

/** Entry failures worth another try: EventBridge was busy, not the entry wrong. */
const RETRYABLE_CODES = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', 'ServiceUnavailable']);

export interface EventBridgeNotifierOptions {
  /** Bus name or ARN; the account's default bus when absent. */
  readonly eventBusName?: string;
  readonly client?: EventBridgeClient;
  readonly clientConfig?: EventBridgeClientConfig;
  /** Tries of an entry EventBridge failed for a passing reason, the first included. Default 3. */
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Bytes EventBridge counts for an entry (its documented entry-size calculation). */
function entryBytes(e: PutEventsRequestEntry): number {
  let n = e.Time ? 14 : 0;
  for (const s of [e.Source, e.DetailType, e.Detail, ...(e.Resources ?? [])]) n += Buffer.byteLength(s ?? '');
  return n;
}

/**
 * Puts each event on an EventBridge bus: `source: dropkit`, a detail-type per event type, the
 * event JSON as detail (its `id`, the run id, is what consumers deduplicate on). PutEvents
 * answers 200 even when the entry failed, so `FailedEntryCount` is checked and a throttled entry
 * is tried again.
 */
export class EventBridgeNotifier implements Notifier {
  readonly target: string;
  readonly client: EventBridgeClient;
  private readonly eventBusName: string | undefined;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: EventBridgeNotifierOptions = {}) {
    this.eventBusName = options.eventBusName;
    this.target = `eventbridge ${options.eventBusName ?? 'default'}`;
    this.client = options.client ?? new EventBridgeClient({ ...AWS_RETRY, ...options.clientConfig });
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.sleep = options.sleep ?? sleep;
  }

  async notify(event: DropEvent): Promise<NotifyOutcome> {
    let attempts = 0;
    try {
      const fitted = fitNotice(event, (body) => this.entry(body), entryBytes, EVENTBRIDGE_MAX_ENTRY_BYTES);
      if (!fitted.fits) {
        return {
          target: this.target,
          status: 'failed',
          attempts: 0,
          detail: `event is ${entryBytes(fitted.built)} bytes, over EventBridge's 256 KB entry limit even without the file list`,
        };
      }
      for (;;) {
        attempts++;
        const out = await this.client.send(new PutEventsCommand({ Entries: [fitted.built] }));
        const result = out.Entries?.[0];
        if (!out.FailedEntryCount && result?.EventId) {
          const trimmed = fitted.trimmed ? `; the ${fitted.body.filesOmitted} file links were left out to fit the size limit` : '';
          return { target: this.target, status: 'sent', attempts, detail: `event ${result.EventId}${trimmed}` };
        }
        const code = result?.ErrorCode ?? 'UnknownError';
        if (!RETRYABLE_CODES.has(code) || attempts >= this.maxAttempts) {
          return { target: this.target, status: 'failed', attempts, detail: `${code}: ${result?.ErrorMessage ?? 'PutEvents reported the entry failed'}` };
        }
        await this.sleep(backoffDelay(attempts, { baseMs: 200 }));
      }
    } catch (e) {
      const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return { target: this.target, status: 'failed', attempts: Math.max(attempts, 1), detail };
    }
  }

  private entry(body: NoticeBody): PutEventsRequestEntry {
    return {
      Source: EVENT_SOURCE,
      DetailType: detailTypeFor(body.type),
      Detail: JSON.stringify(body),
      Time: new Date(body.occurredAt),
      ...(this.eventBusName ? { EventBusName: this.eventBusName } : {}),
    };
  }
}
