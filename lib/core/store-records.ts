import { checkResultSchema, manifestApprovalSchema } from './manifest-zod';
import { approvalStateSchema } from './approval/approval';
import * as z from 'zod';
import type { DestinationRecord } from './ports/destination';
import type { DropEventType, NotifyOutcome } from './ports/notifier';
import type { Lease } from './lease';
import type { RunRecord } from './run-record';
import type { SlaState } from './sla-watch/slot-state';
import type { SlotWatchRecord } from './sla-watch/sla-watch';

/**
 * What dropkit's own records in the store (leases, run records, SLA watch states, destination
 * records) must hold to be read, for `readStoreJson`. Unknown fields are let through: a newer
 * version may add some. The manifest and pointer are in manifest-zod.ts (published, strict).
 */

const notifyOutcome = z.object({ target: z.string(), status: z.enum(['sent', 'failed', 'skipped']), attempts: z.number(), detail: z.string().optional() });

const checkResult = z.object({ ...checkResultSchema.shape, sample: z.array(z.record(z.string(), z.unknown())).optional() });

const changeFile = z.object({ key: z.string(), rows: z.number(), bytes: z.number() });

export const destinationRecordSchema = z.object({
  destination: z.string(),
  target: z.string(),
  mode: z.enum(['full', 'upsert', 'mirror', 'insert-only']),
  status: z.enum(['delivered', 'partial', 'failed']),
  units: z.array(z.string()),
  files: z.number(),
  bytes: z.number(),
  rowsSent: z.number(),
  rowsRejected: z.number(),
  errors: z.array(z.object({ message: z.string(), unit: z.string().optional() })),
  deadLetter: z.string().optional(),
  base: z.string().nullable().optional(),
  carriesRejectedOf: z.string().optional(),
  changeSet: z.object({ inserts: changeFile, updates: changeFile, deletes: changeFile }).optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
});

export const leaseSchema = z.object({
  attemptId: z.string(),
  runId: z.string(),
  acquiredAt: z.string(),
  expiresAt: z.string(),
  host: z.string().nullable(),
  pid: z.number().nullable(),
  pidNamespace: z.string().nullable().optional(),
  released: z.boolean(),
});

/** As stored: records written before the statuses had one spelling say `validation_failed` (parseRunRecord reads it as `validation-failed`). */
export const storedRunRecordSchema = z.object({
  feed: z.string(),
  partner: z.string().nullable(),
  runId: z.string(),
  revision: z.number(),
  slot: z.string(),
  scheduledFor: z.string(),
  attemptId: z.string(),
  status: z.enum(['running', 'delivered', 'failed', 'validation-failed', 'validation_failed']),
  step: z.enum(['plan', 'stage', 'validate', 'render', 'approve', 'publish', 'notify']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.object({ name: z.string(), message: z.string() }).nullable(),
  validation: z.object({ status: z.enum(['pass', 'warn', 'fail']), checks: z.array(checkResult) }).nullable(),
  manifest: z.string().nullable(),
  delivery: z.object({ expectedBy: z.string(), deliveredAt: z.string(), latenessSeconds: z.number(), status: z.enum(['MET', 'LATE']) }).optional(),
  rowCount: z.number().nullable(),
  noticeSent: z.boolean().default(false),
  notice: z.object({ occurredAt: z.string(), sentTo: z.record(z.string(), z.array(z.string())) }).optional(),
  notifications: z.array(notifyOutcome).default([]),
  destinations: z.array(destinationRecordSchema).optional(),
  pending: z.array(z.string()).default([]),
  // Sign-off: the manifest's `approval`, or the gate's verdict of a rejected or timed-out run (lib/core/approval).
  approval: z.union([manifestApprovalSchema, approvalStateSchema]).optional(),
});

const slaState = z.enum(['MET', 'LATE', 'AT_RISK', 'MISSED', 'FAILED', 'RUNNING', 'PENDING', 'NOT_EXPECTED']);
const dropEventType = z.enum([
  'drop.delivered',
  'run.failed',
  'data.delay',
  'data.delay.recovered',
  'data.update',
  'schema.change',
  'validation.failed',
  'approval.requested',
]);

export const slotWatchRecordSchema = z.object({
  version: z.literal(1),
  feed: z.string(),
  partner: z.string().nullable(),
  slot: z.string(),
  state: slaState,
  updatedAt: z.string(),
  changes: z.array(z.object({ state: slaState, at: z.string() })),
  notices: z.array(
    z.object({
      id: z.string(),
      type: dropEventType,
      status: z.enum(['claimed', 'sent', 'failed']),
      claimedAt: z.string(),
      outcomes: z.array(notifyOutcome).optional(),
    }),
  ),
});

// Each schema parses to its type and lists every value of the type's unions (fails to compile when they drift).
type Parses<S extends z.ZodType, T> = z.output<S> extends T ? true : false;
type Lists<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree: [
  Parses<typeof leaseSchema, Lease>,
  Parses<typeof slotWatchRecordSchema, SlotWatchRecord>,
  Parses<typeof destinationRecordSchema, DestinationRecord>,
  Parses<typeof notifyOutcome, NotifyOutcome>,
  Lists<z.output<typeof slaState>, SlaState>,
  Lists<z.output<typeof dropEventType>, DropEventType>,
  Lists<Exclude<z.output<typeof storedRunRecordSchema>['status'], 'validation_failed'>, RunRecord['status']>,
  Parses<z.ZodType<Omit<z.output<typeof storedRunRecordSchema>, 'status'>>, Omit<RunRecord, 'status'>>,
] = [true, true, true, true, true, true, true, true];
void agree;
