import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDurationSeconds } from '../core/duration';
import { parseSlotArg } from '../core/slots';
import { UsageError } from '../core/errors';
import { didYouMean } from '../core/did-you-mean';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses a command's arguments; unknown options are a usage error (exit 2) that names the option. */
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;

export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T): Parsed<T> {
  try {
    return parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    // Node's text for an unknown option goes on about positionals; say it plainly instead.
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    const near = unknown ? didYouMean(unknown.replace(/^-+/, ''), Object.keys(options)) : undefined;
    const said = unknown ? `unknown option ${unknown}${near ? `; did you mean --${near}?` : ''}` : message.replace(/\.$/, '');
    throw new UsageError(`${said}${said.endsWith('?') ? '' : '.'} See dropkit ${command} --help`);
  }
}

export const projectOption = { project: { type: 'string', short: 'p', default: '.' } } as const;

/** Where drops are and which engine runs the SQL: the local pair by default, or S3 and Athena. */
export const storeOptions = {
  store: { type: 'string' },
  engine: { type: 'string' },
  workgroup: { type: 'string' },
  'staging-database': { type: 'string' },
} as const;

/** What `localContext` takes from the store options. */
export function storeChoice(values: { store?: string; engine?: string; workgroup?: string; 'staging-database'?: string }) {
  return { store: values.store, engine: values.engine, workgroup: values.workgroup, stagingDatabase: values['staging-database'] };
}

/** The options of commands that pick one slot of a feed: run and plan. */
export const slotOptions = {
  ...projectOption,
  ...storeOptions,
  slot: { type: 'string' },
  partner: { type: 'string' },
  rerun: { type: 'boolean', default: false },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
  now: { type: 'string' },
} as const;

/** A time on the command line: ISO-8601 with an offset or Z, a slot id, or a date (midnight UTC). */
export function parseTimeArg(option: string, text: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  try {
    return parseSlotArg(date);
  } catch {
    throw new UsageError(
      `${option} ${text} is not a time; give ISO-8601 like 2024-01-15T06:00:00Z, a date like 2024-01-15, or a slot id like 20240115T060000Z`,
    );
  }
}

/**
 * A length of time on the command line, in milliseconds: seconds (`30`, `0.5`), a number with a unit
 * (`500ms`, `30s`, `5m`, `6h`, `1d`) or an ISO-8601 duration (`PT30S`). Must be longer than zero.
 */
export function parseDurationArg(option: string, text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  const iso = m ? undefined : parseDurationSeconds(text.trim());
  const ms = m ? Number(m[1]) * units[m[2] ?? 's'] : iso === undefined ? NaN : iso * 1000;
  if (!(ms > 0) || !Number.isFinite(ms)) {
    throw new UsageError(
      `${option} ${text} is not a length of time; give seconds (30), a number with a unit (500ms, 30s, 5m, 6h) or ISO-8601 (PT30S), longer than zero`,
    );
  }
  return ms;
}
