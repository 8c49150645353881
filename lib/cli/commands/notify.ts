import { deliveredRefOf } from '../../core/graph/delivered-ref';
import { UsageError } from '../../core/errors';
import { manifestKey, runRecordsPrefix } from '../../core/layout';
import { parseRunRecord, RunRecord } from '../../core/run-record';
import { notifyStep } from '../../core/steps/notify';
import { loadProject } from '../../project/load-project';
import { parseCommandArgs, projectOption, storeChoice, storeOptions } from '../args';
import { EXIT } from '../exit-codes';
import { localContext } from '../local-context';
import { findFeed } from './run';

/**
 * `dropkit notify FEED --run ID`: sends a delivered run's notice again, with the same idempotency
 * key, to every consumer: for a notice that failed, or a consumer who lost it.
 */
export async function notifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('notify', args, {
    ...projectOption,
    ...storeOptions,
    run: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1 || !values.run) throw new UsageError('dropkit notify takes one feed and --run ID (see dropkit history FEED for run ids)');
  const project = loadProject(values.project);
  const feed = findFeed(project.feeds, positionals[0]);
  const ctx = localContext(project, { out: values.out, console: !values.json, ...storeChoice(values) });
  const record = await findRunRecord(ctx.store, runRecordsPrefix(project.spec.prefix, feed.spec.name), values.run);
  if (!record) throw new UsageError(`no run ${values.run} of ${feed.spec.name}; dropkit history ${feed.spec.name} lists its runs`);
  const key = manifestKey({ prefix: project.spec.prefix, feed: record.feed, partner: record.partner }, record.slot, record.runId);
  if (record.status !== 'delivered' && !(await ctx.store.exists(key))) {
    throw new UsageError(`run ${record.runId} of ${feed.spec.name} was not delivered (${record.status}): there is no drop to announce`);
  }
  const ref = deliveredRefOf(
    { feed: record.feed, partner: record.partner, prefix: project.spec.prefix, slot: { id: record.slot }, runId: record.runId, revision: record.revision },
    key,
  );
  const result = await notifyStep(ref, ctx.deps, { resend: true });
  if (values.json) process.stdout.write(JSON.stringify({ status: result.status, runId: record.runId, notifications: result.outcomes }) + '\n');
  else
    for (const o of result.outcomes) process.stdout.write(`${o.status === 'failed' ? '✗' : '✓'} ${o.target}: ${o.status}${o.detail ? ` (${o.detail})` : ''}\n`);
  return result.outcomes.some((o) => o.status === 'failed') ? EXIT.failure : EXIT.ok;
}

async function findRunRecord(
  store: { list(prefix: string): AsyncIterable<{ key: string }>; get(key: string): Promise<{ body: Buffer } | undefined> },
  prefix: string,
  runId: string,
): Promise<RunRecord | undefined> {
  for await (const o of store.list(prefix)) {
    if (!o.key.endsWith(`/${runId}.json`)) continue;
    const got = await store.get(o.key);
    if (got) return parseRunRecord(got.body, o.key);
  }
  return undefined;
}
