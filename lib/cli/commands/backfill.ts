import { relative } from 'node:path';
import { deliveryPartners } from '../../core/feed/feed-definition';
import { UsageError } from '../../core/errors';
import { loadProject } from '../../project/load-project';
import { backfill } from '../../runner/backfill';
import { parseCommandArgs, parseTimeArg, projectOption, storeOptions } from '../args';
import { createProgress } from '../progress';
import { describeOutcome, exitCodeForOutcomes, outcomeJson } from '../run-output';
import { rehearsalOptions, runContext } from '../rehearsal';
import { findFeed } from './run';

/** `dropkit backfill FEED --from ISO --to ISO`: every due slot of the range, oldest first, delivered ones skipped. */
export async function backfillCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('backfill', args, {
    ...projectOption,
    ...storeOptions,
    from: { type: 'string' },
    to: { type: 'string' },
    partner: { type: 'string' },
    'continue-on-failure': { type: 'boolean', default: false },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    now: { type: 'string' },
    ...rehearsalOptions,
  });
  if (positionals.length !== 1) throw new UsageError('dropkit backfill takes one feed: dropkit backfill FEED --from ISO --to ISO');
  if (!values.from || !values.to) throw new UsageError('dropkit backfill needs --from and --to (ISO-8601, e.g. 2024-01-01 or 2024-01-01T06:00:00Z)');
  const project = loadProject(values.project);
  const feed = findFeed(project.feeds, positionals[0]);
  const partners = values.partner ? [values.partner] : deliveryPartners(feed);
  const progress = createProgress({ json: values.json });
  const { ctx, deps, ...rehearsal } = runContext('backfill', project, values, progress);
  for (const p of partners) ctx.consumersFor(feed, p);

  const summary = await backfill(
    { feed, partners, from: parseTimeArg('--from', values.from), to: parseTimeArg('--to', values.to), continueOnFailure: values['continue-on-failure'] },
    deps,
    (done, total) => progress.slots(done, total),
  );
  progress.clear();

  const pathOf = ctx.locate;
  const counts = { total: summary.total, delivered: summary.delivered, skipped: summary.skipped, failed: summary.failed, notRun: summary.notRun };
  if (values.json) {
    process.stdout.write(
      JSON.stringify({
        status: summary.failed ? 'failed' : 'ok',
        feed: feed.spec.name,
        ...counts,
        ...rehearsal.json,
        runs: summary.outcomes.map((o) => outcomeJson(o, pathOf)),
      }) + '\n',
    );
  } else {
    const lines = summary.outcomes.map((o) => describeOutcome(o, (k) => (ctx.remote ? pathOf(k) : relative(process.cwd(), pathOf(k)))));
    lines.push(
      `${feed.spec.name}: ${summary.total} slot${summary.total === 1 ? '' : 's'}: ${summary.delivered} delivered, ${summary.skipped} skipped (already delivered), ${summary.failed} failed` +
        (summary.notRun ? `, ${summary.notRun} not run (stopped at the first failure; --continue-on-failure goes on)` : ''),
    );
    lines.push(...rehearsal.lines);
    process.stdout.write(lines.join('\n') + '\n');
  }
  return exitCodeForOutcomes(summary.outcomes);
}
