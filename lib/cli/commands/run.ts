import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { deliveryPartners, FeedDefinition } from '../../core/feed/feed-definition';
import { UsageError } from '../../core/errors';
import { loadProject } from '../../project/load-project';
import { mapBounded } from '../../runner/bounded-parallel';
import { runSlot } from '../../runner/run-slot';
import { parseCommandArgs, parseTimeArg, slotOptions } from '../args';
import { createProgress } from '../progress';
import { describeOutcome, exitCodeForOutcomes, outcomeJson, worstStatus } from '../run-output';
import { rehearsalOptions, runContext } from '../rehearsal';

/** `dropkit run FEED`: runs one slot of a feed (every partner of a per-partner feed), or of every feed with --all. */
export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('run', args, {
    ...slotOptions,
    all: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    ...rehearsalOptions,
  });
  if (positionals.length > 1) throw new UsageError(`dropkit run takes one feed; got ${positionals.join(', ')}`);
  if (!values.all && positionals.length === 0) throw new UsageError('dropkit run: name a feed, or give --all');
  if (values.all && (positionals.length || values.slot || values.partner))
    throw new UsageError('dropkit run --all runs the latest due slot of every feed; it takes no feed, --slot or --partner');

  const concurrency = parseConcurrency(values.concurrency, values.all);

  const project = loadProject(values.project);
  const feeds = values.all ? project.feeds : [findFeed(project.feeds, positionals[0])];
  const slot = values.slot ? parseTimeArg('--slot', values.slot) : undefined;
  const progress = createProgress({ json: values.json });
  const { ctx, deps, ...rehearsal } = runContext('run', project, values, progress);

  // Build every run's notifiers first: a missing webhook secret stops everything before any work.
  const runs = feeds.flatMap((feed) => {
    const partners = values.partner ? [values.partner] : deliveryPartners(feed);
    return partners.map((partner) => (ctx.consumersFor(feed, partner), { feed, partner }));
  });
  // Each run opens its own engine and takes its own lease; outcomes come back in the runs' order.
  const outcomes = await mapBounded(runs, concurrency, (run) => runSlot({ feed: run.feed.spec.name, partner: run.partner, slot, rerun: values.rerun }, deps));
  progress.clear();

  if (values.json) {
    const results = outcomes.map((o) => outcomeJson(o, ctx.locate));
    process.stdout.write(
      JSON.stringify(results.length === 1 ? { ...results[0], ...rehearsal.json } : { status: worstStatus(outcomes), ...rehearsal.json, runs: results }) + '\n',
    );
  } else {
    const lines = outcomes.map((o) => describeOutcome(o, (k) => (ctx.remote ? ctx.locate(k) : relative(process.cwd(), ctx.locate(k)))));
    lines.push(...rehearsal.lines);
    process.stdout.write(lines.join('\n') + '\n');
  }
  return exitCodeForOutcomes(outcomes);
}

/**
 * `--concurrency N` (with --all only): how many runs at once; by default two per core. A run waits
 * on its files (fsyncs, renames, the lease) about as long as it computes, so one per core left the
 * cores half idle (`npm run bench -- --only run-all`: 100 small feeds on 2 cores took 0.73x of
 * sequential at 2, 0.55x at 4). Each run's engine has its own memory budget: N of them at once.
 */
export function parseConcurrency(given: string | undefined, all: boolean, cores: number = availableParallelism()): number {
  if (given === undefined) return all ? 2 * cores : 1;
  if (!all) throw new UsageError('dropkit run --concurrency N runs several feeds at once: give it with --all');
  const n = Number(given);
  if (!/^\d+$/.test(given) || !Number.isInteger(n) || n < 1)
    throw new UsageError(`--concurrency ${given} is not a positive whole number; give how many runs at once, e.g. --concurrency ${cores}`);
  return n;
}

export function findFeed(feeds: readonly FeedDefinition[], name: string): FeedDefinition {
  const feed = feeds.find((f) => f.spec.name === name);
  if (!feed) throw new UsageError(`no feed named "${name}"; feeds: ${feeds.map((f) => f.spec.name).join(', ')}`);
  return feed;
}
