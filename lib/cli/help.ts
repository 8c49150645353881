// Usage lines of commands that load DuckDB (or, for pull, the manifest's schema) live here, so that
// help, which every command loads, loads neither.
export const PULL_USAGE = 'dropkit pull MANIFEST --dest DIR [--links FILE] [--json] [--connect-timeout 30s] [--idle-timeout 60s] [--deadline 6h]';
export const SLA_USAGE = 'dropkit sla [--project DIR] [--at ISO] [--look-back DURATION] [--report-only] [--out DIR] [--json]';
export const REPORT_USAGE = 'dropkit report [--project DIR] [--out DIR] [--store DIR] [--days N] [--at ISO] [--json]';

/** What a command says about itself: `dropkit help`, `dropkit CMD --help` and README's CLI block all come from here. */
export interface CommandHelp {
  readonly name: string;
  /** Usage lines, each starting with `dropkit NAME`. */
  readonly usage: readonly string[];
  /** One line for the overview and README. */
  readonly summary: string;
  /** The rest, for `dropkit NAME --help`. */
  readonly details: string;
}

export const COMMAND_HELP: readonly CommandHelp[] = [
  {
    name: 'check',
    usage: ['dropkit check [--project DIR] [--now ISO] [--impact METRIC] [--no-cache] [--json]'],
    summary:
      'Validate every feed, compile its SQL against the sources; show its columns, next slots and deadlines; --impact METRIC lists the feeds a metric change touches.',
    details:
      'Every problem exits 2 with file, field (or file:line:column for SQL), bad value and fix. The SQL is\nprepared with its parameters bound as their types; no row is read. What it found for unchanged SQL,\nsources and source files is kept in $XDG_CACHE_HOME/dropkit (default ~/.cache/dropkit); --no-cache\nneither reads nor writes it.',
  },
  {
    name: 'run',
    usage: [
      'dropkit run FEED|--all [--concurrency N] [--project DIR] [--slot ISO] [--partner ID] [--rerun] [--out DIR] [--now ISO] [--dry-run] [--notify] [--json]',
    ],
    summary: 'Run one slot (default: the latest due) through stage, validate, render, publish and notify.',
    details:
      'Per-partner feeds run for every partner unless --partner is given. --all runs up to --concurrency N\nat once (default: two per core), each with its own lease, one line per run in feed order. --dry-run\nstages, validates and renders into a scratch folder, prints what it would deliver and to whom, and\ntells nobody. A run into --out DIR or at a future --now holds its notices unless --notify.',
  },
  {
    name: 'backfill',
    usage: ['dropkit backfill FEED --from ISO --to ISO [--partner ID] [--continue-on-failure] [--dry-run] [--notify] [--json]'],
    summary: 'Run every due slot of the range, oldest first; delivered slots are skipped.',
    details: 'Stops at the first failure unless --continue-on-failure. Ends with delivered / skipped / failed counts.\n--dry-run and --notify as for run.',
  },
  {
    name: 'plan',
    usage: ['dropkit plan FEED [--slot ISO] [--partner ID] [--rerun] [--project DIR] [--json]'],
    summary: 'Show what run would do: slot, interval, deadline, run id, parameters, SQL, checks. Changes nothing.',
    details: '',
  },
  {
    name: 'history',
    usage: ['dropkit history FEED [--partner ID] [--limit N] [--json]', 'dropkit history FEED --slots|--from ISO [--to ISO] [--now ISO]'],
    summary: 'Every recorded run (newest first, with its duration), or one row per slot: the delivery record.',
    details: 'With --slots or --from: expected by, delivered at, lateness, SLA state, rows, validation, revision.',
  },
  {
    name: 'sla',
    usage: [SLA_USAGE],
    summary: 'The SLA watch over every feed; tells partners and operators of each change once.',
    details:
      'Every slot in the look-back window (default P2D) as MET, LATE, AT_RISK, MISSED, FAILED, RUNNING, PENDING\nor NOT_EXPECTED. Exit 0 when all are fine, 4 when one needs attention, 5 when one is still open.',
  },
  {
    name: 'report',
    usage: [REPORT_USAGE],
    summary: 'Write the catalogue and delivery record as a static site: what is wrong now first.',
    details: 'Default --out: _report/ in the store; --store DIR reads drops from DIR instead. No network needed.',
  },
  {
    name: 'pull',
    usage: [PULL_USAGE],
    summary: 'The partner side: download a drop (manifest or latest.json) and verify every file.',
    details:
      'MANIFEST is a path or http(s) URL of a manifest.json or a latest.json; --links FILE is the drop\nnotification, whose links are used instead. DIR/manifest.json is written last, only when every file\nchecks out. Limits: --connect-timeout (30s), --idle-timeout (60s), --deadline (6h).',
  },
  {
    name: 'notify',
    usage: ['dropkit notify FEED --run ID [--project DIR] [--json]'],
    summary: "Send a delivered run's notice again, with the same idempotency key.",
    details: '',
  },
  {
    name: 'repair',
    usage: ['dropkit repair [FEED] [--project DIR] [--json]'],
    summary: 'Finish runs that died: pointer, record and notice of a delivered one; clean up the rest.',
    details: '',
  },
  {
    name: 'approve',
    usage: [
      'dropkit approve FEED --slot ISO [--partner ID] --by APPROVER --reason TEXT [--project DIR] [--json]',
      'dropkit approve FEED --slot ISO [--partner ID] --show [--project DIR] [--json]',
    ],
    summary: 'Sign off a drop held for approval: the run resumes at the gate, publishes and notifies.',
    details:
      "--by must be one of the feed's approval.approvers. Past the approval timeout the drop is rolled back\ninstead (exit 1). `run` exits 7 when it holds a drop; a run of a slot already held exits 6, touching nothing.\n--show prints the held drop and decides nothing: why it is held, the deadline, the approvers, its\nprofile and first rows (pii columns redacted), as the link broker's GET /approvals/… answers it.",
  },
  {
    name: 'reject',
    usage: ['dropkit reject FEED --slot ISO [--partner ID] --by APPROVER --reason TEXT [--project DIR] [--json]'],
    summary: 'Turn down a drop held for approval: it is rolled back like a failed check; the last good drop stays.',
    details: '',
  },
];

const EXIT_CODES = `Exit codes: 0 delivered (or already delivered; pull: every file verified), 2 invalid configuration
or usage, 3 validation failed (nothing published), 6 another run is delivering this slot (this one
did nothing), 7 the drop is held for approval (dropkit approve|reject), 1 any other failure; sla: 4 a
slot needs attention, 5 a slot is still open.`;

/** `dropkit help`: every command's usage and summary. */
export function overview(): string {
  return [
    'dropkit — scheduled SQL extracts delivered as validated, versioned file drops',
    '',
    'Usage:',
    ...COMMAND_HELP.flatMap((c) => [...c.usage.map((u) => `  ${u}`), `      ${c.summary}`]),
    '',
    'dropkit COMMAND --help tells more about one command.',
    '',
    EXIT_CODES,
  ].join('\n');
}

/** `dropkit NAME --help`. */
export function commandHelp(name: string): string | undefined {
  const c = COMMAND_HELP.find((x) => x.name === name);
  if (!c) return undefined;
  return ['Usage:', ...c.usage.map((u) => `  ${u}`), '', c.summary, ...(c.details ? ['', c.details] : []), '', EXIT_CODES].join('\n');
}

/** The block README.md shows under "The CLI" (a test keeps the two equal). */
export function readmeCliBlock(): string {
  return COMMAND_HELP.flatMap((c) => [...c.usage, `    ${c.summary}`]).join('\n');
}
