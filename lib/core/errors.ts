/**
 * One base error and named subclasses. The CLI maps them to exit codes; Lambda handlers rethrow
 * them so Step Functions' Retry/Catch can see the failure by name.
 */
export class DropkitError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DropkitError';
  }
}

/** One problem found in a project or feed file: where it is, what is wrong, and the fix. */
export interface ConfigProblem {
  /** File the problem is in, relative to the project folder where possible. */
  readonly file: string;
  /** Field path inside the file, e.g. `formats.csv.delimiter`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
  /** The offending value, when there is one. */
  readonly value?: unknown;
  readonly fix?: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.path ? `${p.file}: ${p.path}` : p.file;
  const value = p.value === undefined ? '' : ` (got ${JSON.stringify(p.value)})`;
  const fix = p.fix ? `\n    fix: ${p.fix}` : '';
  return `${where}: ${p.message}${value}${fix}`;
}

/** Invalid project or feed configuration. Carries every problem found, not just the first. */
export class ConfigError extends DropkitError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(`${problems.length} configuration problem${problems.length === 1 ? '' : 's'}:\n` + problems.map((p) => `  - ${formatProblem(p)}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** An error-severity check failed or could not run: nothing was published. */
export class ValidationFailedError extends DropkitError {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationFailedError';
  }
}

/** The extract query (or a query over staged data) failed in the engine. */
export class QueryFailedError extends DropkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueryFailedError';
  }
}

/**
 * A step ran out of its time (a Lambda's remaining time less a margin) while waiting: what it
 * waited on was stopped, nothing was half-written, and the step may be tried again from the start.
 */
export class StepTimeBudgetError extends DropkitError {
  constructor(message: string) {
    super(message);
    this.name = 'StepTimeBudgetError';
  }
}

/** Publishing lost a race or found the store in a state it must not overwrite. */
export class PublishConflictError extends DropkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishConflictError';
  }
}

/** A request that cannot be carried out as asked (bad slot, unknown partner, bad flag value). Exit code 2 at the CLI. */
export class UsageError extends DropkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Another attempt owns the slot (or won it while this one ran): this attempt touched nothing of it. */
export class SlotBusyError extends PublishConflictError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlotBusyError';
  }
}

/** `dropkit pull`: the manifest could not be read, or cannot be trusted: nothing was downloaded. Exit code 1 at the CLI. */
export class PullError extends DropkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PullError';
  }
}

/** A cron expression that cannot be used. Names the field, the offending value and the fix. */
export class CronError extends DropkitError {
  readonly field: string;
  readonly value: string;
  readonly fix: string;
  constructor(field: string, value: string, problem: string, fix: string) {
    super(`cron ${field} "${value}": ${problem}. Fix: ${fix}`);
    this.name = 'CronError';
    this.field = field;
    this.value = value;
    this.fix = fix;
  }
}

/** A `--store` URL that is not `s3://bucket[/prefix]`. */
export class InvalidStoreUrlError extends DropkitError {
  constructor(url: string, why: string) {
    super(`invalid S3 store URL ${JSON.stringify(url)}: ${why}; expected s3://bucket or s3://bucket/prefix`);
    this.name = 'InvalidStoreUrlError';
  }
}

/** The signing credentials expire before a link could live even a second. */
export class SigningCredentialsExpiredError extends DropkitError {
  constructor(expiration: Date, now: Date) {
    super(
      `cannot sign download links: the signing credentials expired at ${expiration.toISOString()} (now ${now.toISOString()}); ` +
        'refresh them (e.g. aws sso login, or a new role session) and run again',
    );
    this.name = 'SigningCredentialsExpiredError';
  }
}

/** An approver rejected a held drop: the attempt is rolled back like a failed check. */
export class ApprovalRejectedError extends DropkitError {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalRejectedError';
  }
}

/** A held drop waited past its approval timeout: rolled back, and the timeout is an SLA event. */
export class ApprovalTimedOutError extends DropkitError {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalTimedOutError';
  }
}
