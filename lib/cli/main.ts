import { ConfigError } from '../core/errors';
import { didYouMean } from '../core/did-you-mean';
import { EXIT, exitCodeFor } from './exit-codes';
import { commandHelp, overview } from './help';

type Command = (args: string[]) => Promise<number>;
/**
 * Each command is loaded when it runs: DuckDB and the AWS SDK are optional peers, and `pull` needs
 * neither, so a partner who only pulls installs neither; and a command loads only what it uses
 * (a remembered `check` needs no zod).
 */
const COMMANDS: Record<string, () => Command> = {
  check: () => require('./commands/check').checkCommand,
  run: () => require('./commands/run').runCommand,
  backfill: () => require('./commands/backfill').backfillCommand,
  plan: () => require('./commands/plan').planCommand,
  history: () => require('./commands/history').historyCommand,
  pull: () => require('./commands/pull').pullCommand,
  notify: () => require('./commands/notify').notifyCommand,
  repair: () => require('./commands/repair').repairCommand,
  sla: () => require('./commands/sla').slaCommand,
  report: () => require('./commands/report').reportCommand,
  approve: () => require('./commands/approve').approveCommand,
  reject: () => require('./commands/reject').rejectCommand,
};

/** The CLI edge: the only place errors become exit codes. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    const about = command && args[0] ? commandHelp(args[0]) : undefined;
    process.stdout.write((about ?? overview()) + '\n');
    return command ? EXIT.ok : EXIT.config;
  }
  const load = COMMANDS[command];
  if (!load) {
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
    return await load()(args);
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
