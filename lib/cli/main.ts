import { ConfigError } from '../core/errors';
import { PULL_USAGE, pullCommand } from './commands/pull';
import { EXIT, exitCodeFor } from './exit-codes';

function help(): string {
  // Loaded for the text only: these commands need DuckDB, which a partner who only pulls has not installed.
  const usage = (load: () => string, fallback: string) => {
    try {
      return load();
    } catch {
      return fallback;
    }
  };
  const SLA_USAGE = usage(() => require('./commands/sla').SLA_USAGE, 'dropkit sla [--project DIR] (needs @duckdb/node-api)');
  const REPORT_USAGE = usage(() => require('./commands/report').REPORT_USAGE, 'dropkit report [--project DIR] (needs @duckdb/node-api)');
  return `dropkit — scheduled SQL extracts delivered as validated, versioned file drops

Usage:
  dropkit check [--project DIR] [--impact METRIC]
      Validate every feed; print each feed's next slots and deadlines, and the semantic layer's
      metrics that no feed serves. --impact METRIC lists the feeds that change with that metric.
  dropkit run FEED|--all [--project DIR] [--slot ISO] [--partner ID] [--rerun] [--out DIR] [--json]
      Run one slot (default: the latest slot that is due) through stage, validate, render,
      publish and notify. Per-partner feeds run for every partner unless --partner is given.
  dropkit backfill FEED --from ISO --to ISO [--partner ID] [--continue-on-failure] [--project DIR] [--out DIR] [--json]
      Run every due slot of the range, oldest first; delivered slots are skipped. Stops at the
      first failure unless --continue-on-failure. Ends with delivered / skipped / failed counts.
  dropkit plan FEED [--slot ISO] [--partner ID] [--rerun] [--project DIR] [--json]
      Show what run would do: slot, data interval, deadline, run id, parameters. Changes nothing.
  dropkit history FEED [--partner ID] [--limit N] [--project DIR] [--json]
      Every recorded run of a feed, newest first: delivered, failed (with step and error), rows.
  dropkit history FEED --slots|--from ISO [--to ISO] [--partner ID] [--limit N] [--now ISO] [--json]
      The delivery record: one row per slot (delivered or not): expected by, delivered at,
      lateness, SLA state, rows, validation, revision.
  ${SLA_USAGE}
      The SLA watch: every slot of every feed in the look-back window (default P2D) as MET, LATE,
      AT_RISK, MISSED, FAILED, RUNNING, PENDING or NOT_EXPECTED. Tells partners and operators of
      each change once. Exit 0 when all are MET/LATE/NOT_EXPECTED, 4 when one is AT_RISK/MISSED/
      FAILED, 5 when the rest is fine but one is still PENDING or RUNNING.
  ${REPORT_USAGE}
      Write the catalogue and delivery record as a static site (no network needed): an index of
      feeds and a page per feed with its schema, checks, lateness chart, counts and latest drops.
      Default --out: _report/ in the store; --store DIR reads drops from DIR instead.
  ${PULL_USAGE}
      Download a drop into DIR and check every file's bytes and SHA-256 against the manifest.
      MANIFEST is a path or an http(s) URL; --links FILE is the drop notification, whose links
      are used instead. DIR/manifest.json is written last, only when every file checks out.
      Limits: --connect-timeout (wait for an answer, default 30s), --idle-timeout (longest stall
      in a transfer, 60s), --deadline (the whole pull, 6h); a manifest over 16 MiB is refused.
  dropkit notify FEED --run ID [--project DIR] [--json]
      Send a delivered run's notice again, with the same idempotency key.
  dropkit repair [FEED] [--project DIR] [--json]
      Finish runs that died: a delivered one gets its pointer, record and notice; one that died
      before its manifest is recorded failed and its leftovers removed.

run, backfill, plan and check also take --now ISO: act as if it were that time (tests, rehearsals).

Exit codes: 0 delivered (or already delivered; pull: every file verified), 2 invalid configuration
or usage, 3 validation failed (nothing published), 6 another run is delivering this slot (this one
did nothing), 1 any other failure; sla: 4 a slot needs attention, 5 a slot is still open.`;
}

type Command = (args: string[]) => Promise<number>;
/**
 * Each command is loaded when it runs: DuckDB and the AWS SDK are optional peers, and `pull` needs
 * neither, so a partner who only pulls installs neither.
 */
const COMMANDS: Record<string, () => Command> = {
  check: () => require('./commands/check').checkCommand,
  run: () => require('./commands/run').runCommand,
  backfill: () => require('./commands/backfill').backfillCommand,
  plan: () => require('./commands/plan').planCommand,
  history: () => require('./commands/history').historyCommand,
  pull: () => pullCommand,
  notify: () => require('./commands/notify').notifyCommand,
  repair: () => require('./commands/repair').repairCommand,
  sla: () => require('./commands/sla').slaCommand,
  report: () => require('./commands/report').reportCommand,
};

/** The CLI edge: the only place errors become exit codes. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(help() + '\n');
    return command ? EXIT.ok : EXIT.config;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(`dropkit: unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return EXIT.config;
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
