import { relative } from 'node:path';
import { deliveryPartners, FeedDefinition } from '../../core/feed/feed-definition';
import { UsageError } from '../../core/steps/plan';
import { parseSlotArg } from '../../core/slots';
import { loadProject } from '../../project/load-project';
import { runSlot, RunOutcome } from '../../runner/run-slot';
import { parseCommandArgs, projectOption } from '../args';
import { EXIT } from '../exit-codes';
import { localContext } from '../local-context';

/** `dropkit run FEED`: runs one slot of a feed (every partner of a per-partner feed), or of every feed with --all. */
export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('run', args, {
    ...projectOption,
    slot: { type: 'string' },
    partner: { type: 'string' },
    rerun: { type: 'boolean', default: false },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    now: { type: 'string' },
  });
  if (positionals.length > 1) throw new UsageError(`dropkit run takes one feed; got ${positionals.join(', ')}`);
  if (!values.all && positionals.length === 0) throw new UsageError('dropkit run: name a feed, or give --all');
  if (values.all && (positionals.length || values.slot || values.partner)) throw new UsageError('dropkit run --all runs the latest due slot of every feed; it takes no feed, --slot or --partner');

  const project = loadProject(values.project);
  const feeds = values.all ? project.feeds : [findFeed(project.feeds, positionals[0])];
  const slot = values.slot ? parseSlot(values.slot) : undefined;
  const ctx = localContext(project, { out: values.out, now: values.now, console: !values.json });

  // Build every run's notifiers first: a missing webhook secret stops everything before any work.
  const runs = feeds.flatMap((feed) => {
    const partners = values.partner ? [values.partner] : deliveryPartners(feed);
    return partners.map((partner) => ({ feed, partner, deps: ctx.depsFor(feed, partner) }));
  });
  const outcomes: RunOutcome[] = [];
  for (const run of runs) {
    outcomes.push(await runSlot({ feed: run.feed, prefix: project.spec.prefix, partner: run.partner, slot, rerun: values.rerun }, run.deps));
  }

  const codes = outcomes.map(exitCode);
  const code = codes.includes(EXIT.failure) ? EXIT.failure : Math.max(EXIT.ok, ...codes);
  if (values.json) {
    const results = outcomes.map((o) => toJson(o, ctx.store.localPath.bind(ctx.store)));
    process.stdout.write(JSON.stringify(results.length === 1 ? results[0] : { status: worstStatus(outcomes), runs: results }) + '\n');
  } else {
    process.stdout.write(outcomes.map((o) => describe(o, (k) => relative(process.cwd(), ctx.store.localPath(k)))).join('\n') + '\n');
  }
  return code;
}

function findFeed(feeds: readonly FeedDefinition[], name: string): FeedDefinition {
  const feed = feeds.find((f) => f.spec.name === name);
  if (!feed) throw new UsageError(`no feed named "${name}"; feeds: ${feeds.map((f) => f.spec.name).join(', ')}`);
  return feed;
}

function parseSlot(text: string): Date {
  try {
    return parseSlotArg(text);
  } catch {
    throw new UsageError(`--slot ${text} is not a time; give ISO-8601 like 2024-01-15T06:00:00Z or a slot id like 20240115T060000Z`);
  }
}

function exitCode(o: RunOutcome): number {
  if (o.status === 'failed') return EXIT.failure;
  if (o.status === 'validation-failed') return EXIT.validation;
  return EXIT.ok;
}

function worstStatus(outcomes: RunOutcome[]): string {
  for (const s of ['failed', 'validation-failed', 'delivered', 'already-delivered'] as const) if (outcomes.some((o) => o.status === s)) return s;
  return 'delivered';
}

function toJson(o: RunOutcome, pathOf: (key: string) => string) {
  return {
    status: o.status,
    feed: o.feed,
    partner: o.partner,
    slot: o.slot,
    runId: o.runId,
    revision: o.revision,
    manifest: o.manifestKey ? pathOf(o.manifestKey) : null,
    manifestKey: o.manifestKey,
    rowCount: o.manifest?.rowCount ?? null,
    files: o.manifest?.files ?? [],
    sla: o.manifest?.sla ?? null,
    supersedes: o.manifest?.supersedes ?? null,
    validation: o.validation ?? null,
    notifications: o.notifications,
    error: o.error ?? null,
  };
}

function describe(o: RunOutcome, pathOf: (key: string) => string): string {
  const who = `${o.feed}${o.partner ? ` [${o.partner}]` : ''} slot ${o.slot}`;
  const lines: string[] = [];
  if (o.status === 'already-delivered') {
    lines.push(`= ${who}: already delivered (revision ${o.revision}, run ${o.runId}); use --rerun for a new revision`);
  } else if (o.status === 'delivered' && o.manifest) {
    const m = o.manifest;
    const late = m.sla.status === 'LATE' ? ` (${m.sla.latenessSeconds}s late)` : '';
    lines.push(`✓ ${who}: delivered ${m.rowCount} rows in ${m.files.length} file${m.files.length === 1 ? '' : 's'}, SLA ${m.sla.status}${late}${m.supersedes ? `, supersedes ${m.supersedes}` : ''}`);
  } else {
    lines.push(`✗ ${who}: ${o.status === 'validation-failed' ? 'validation failed' : `failed at ${o.error?.step}`}; nothing was published (run ${o.runId})`);
    if (o.error && o.status === 'failed') lines.push(`  ${o.error.name}: ${o.error.message}`);
  }
  for (const c of o.validation?.checks ?? []) {
    if (c.outcome !== 'pass') lines.push(`  ${c.outcome.toUpperCase()} ${c.name}: ${c.message}`);
  }
  for (const n of o.notifications) {
    if (n.status === 'failed') lines.push(`  ! notification to ${n.target} failed after ${n.attempts} attempts: ${n.detail ?? ''}`);
  }
  if (o.manifestKey) lines.push(`  manifest ${pathOf(o.manifestKey)}`);
  return lines.join('\n');
}
