import { ConfigError, ValidationFailedError } from '../core/errors';
import { UsageError } from '../core/steps/plan';

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
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError) return EXIT.config;
  if (error instanceof ValidationFailedError) return EXIT.validation;
  return EXIT.failure;
}
