import { ConfigError, ValidationFailedError } from '../core/errors';
import { UsageError } from '../core/steps/plan';

/** The CLI's contract with cron jobs and CI: documented in the README. */
export const EXIT = { ok: 0, failure: 1, config: 2, validation: 3 } as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError) return EXIT.config;
  if (error instanceof ValidationFailedError) return EXIT.validation;
  return EXIT.failure;
}
