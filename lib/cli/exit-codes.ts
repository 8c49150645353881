import { ConfigError, SlotBusyError, UsageError, ValidationFailedError } from '../core/errors';
import { CronError } from '../core/cron';

/** The CLI's contract with cron jobs and CI: documented in the README. */
export const EXIT = {
  ok: 0,
  failure: 1,
  config: 2,
  validation: 3,
  /** `dropkit sla`: some slot is AT_RISK, MISSED or FAILED. */
  slaAttention: 4,
  /** `dropkit sla`: nothing is wrong, but some slot is still PENDING or RUNNING. */
  slaOpen: 5,
  /** `dropkit run`/`backfill`: another run is delivering this slot; this one did nothing. */
  busy: 6,
  /** `dropkit run`/`backfill`: the drop is rendered and held for sign-off (`dropkit approve|reject`). */
  held: 7,
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof CronError) return EXIT.config;
  if (error instanceof SlotBusyError) return EXIT.busy;
  if (error instanceof ValidationFailedError) return EXIT.validation;
  return EXIT.failure;
}
