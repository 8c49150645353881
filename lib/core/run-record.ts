import type { CheckResult } from './checks/check-types';
import type { NotifyOutcome } from './ports/notifier';
import type { DestinationRecord } from './ports/destination';
import type { RunIdentity, ValidationStatus } from './manifest';
import type { ApprovalState, ManifestApproval } from './approval/approval';
import { parseStoreJson } from './store-json';
import { storedRunRecordSchema } from './store-records';

export type StepName = 'plan' | 'stage' | 'validate' | 'render' | 'approve' | 'publish' | 'notify';

/**
 * What happened to one run, kept under `_runs/` in the store whether the run delivered or not, so
 * `dropkit` and an operator can see failed runs, their step and error, and the check results.
 * Only the attempt that holds the slot's lease writes it.
 */
export interface RunRecord extends RunIdentity {
  /** The attempt that wrote this record last. */
  readonly attemptId: string;
  readonly status: 'running' | 'delivered' | 'failed' | 'validation-failed';
  /** The step that failed, or the last step reached. */
  readonly step: StepName;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly error: { readonly name: string; readonly message: string } | null;
  readonly validation: { readonly status: ValidationStatus; readonly checks: readonly CheckResult[] } | null;
  /** Key of the manifest, once delivered. */
  readonly manifest: string | null;
  /**
   * The delivery as its manifest told it (set once delivered). Kept here because retention deletes
   * manifests and run records stay: the SLA record of an expired slot is read from this.
   */
  readonly delivery?: {
    readonly expectedBy: string;
    readonly deliveredAt: string;
    readonly latenessSeconds: number;
    readonly status: 'MET' | 'LATE';
  };
  readonly rowCount: number | null;
  /** Sign-off: the manifest's `approval` once delivered; the gate's verdict (who, when, why) of a rejected or timed-out run. */
  readonly approval?: ManifestApproval | ApprovalState;
  /** Whether the delivered notice reached a target (once sent it is never sent again, but by `dropkit notify`). */
  readonly noticeSent: boolean;
  /**
   * The notice's intent, written before anything is sent: its time (every resend carries the same
   * body) and, per event id, the targets that have it, so a repair sends only to the others.
   */
  readonly notice?: { readonly occurredAt: string; readonly sentTo: Readonly<Record<string, readonly string[]>> };
  readonly notifications: readonly NotifyOutcome[];
  /** What each destination (partner S3, SFTP, API, folder) did with the drop; absent before any push. */
  readonly destinations?: readonly DestinationRecord[];
  /** Work after the commit point not done yet (pointer, retention, cleanup, notice): finished by the next run or `dropkit repair`. */
  readonly pending: readonly string[];
}

/** How a run record's `pending` names a destination that failed to get the drop: `dropkit repair` pushes again. */
export const PUSH_PENDING = 'push: destination ';

/**
 * A run record as stored. Records written before the run statuses had one spelling say
 * `validation_failed`: read as `validation-failed`, so every reader sees one spelling.
 */
export function parseRunRecord(text: string | Buffer, key: string): RunRecord {
  const raw = parseStoreJson(key, text, storedRunRecordSchema) as Omit<RunRecord, 'status'> & { status: RunRecord['status'] | 'validation_failed' };
  return raw.status === 'validation_failed' ? { ...raw, status: 'validation-failed' } : (raw as RunRecord);
}
