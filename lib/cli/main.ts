import { ConfigError } from '../core/errors';
import { backfillCommand } from './commands/backfill';
import { checkCommand } from './commands/check';
import { historyCommand } from './commands/history';
import { planCommand } from './commands/plan';
import { pullCommand } from './commands/pull';
import { reportCommand } from './commands/report';
import { runCommand } from './commands/run';
import { notifyCommand } from './commands/notify';
import { repairCommand } from './commands/repair';
import { slaCommand } from './commands/sla';
import { didYouMean } from '../core/did-you-mean';
import { commandHelp, overview } from './help';
import { EXIT, exitCodeFor } from './exit-codes';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  check: checkCommand,
  run: runCommand,
  backfill: backfillCommand,
  plan: planCommand,
  history: historyCommand,
  pull: pullCommand,
  notify: notifyCommand,
  repair: repairCommand,
  sla: slaCommand,
  report: reportCommand,
};

/** The CLI edge: the only place errors become exit codes. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    const about = command && args[0] ? commandHelp(args[0]) : undefined;
    process.stdout.write((about ?? overview()) + '\n');
    return command ? EXIT.ok : EXIT.config;
  }
  const handler = COMMANDS[command];
  if (!handler) {
    const near = didYouMean(command, Object.keys(COMMANDS));
    process.stderr.write(`dropkit: unknown command "${command}"${near ? `; did you mean "${near}"?` : ''} Commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return EXIT.config;
  }
  // Asked of any command, before its own arguments are parsed (they may be incomplete).
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(commandHelp(command)! + '\n');
    return EXIT.ok;
  }
  try {
    return await handler(args);
  } catch (error) {
    const wantsJson = args.includes('--json');
    const code = exitCodeFor(error);
    if (wantsJson) {
      const problems = error instanceof ConfigError ? error.problems : undefined;
      process.stdout.write(JSON.stringify({ status: code === EXIT.config ? 'invalid' : 'error', error: describe(error), problems }) + '\n');
    }
    process.stderr.write(`dropkit ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    return code;
  }
}

function describe(error: unknown) {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
