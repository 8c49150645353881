import { parseArgs } from 'node:util';
import { UsageError } from '../core/steps/plan';

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'] & {};

/** Parses a command's arguments; unknown options are a usage error (exit 2) that names the option. */
export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T): { values: any; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`dropkit ${command}: ${(error as Error).message}; see dropkit help`);
  }
}

export const projectOption = { project: { type: 'string', short: 'p', default: '.' } } as const;
