import type { RunRecord } from '../../core/run-record';
import { runRecordsPrefix } from '../../core/layout';
import { UsageError } from '../../core/errors';
import { loadProject } from '../../project/load-project';
import { parseCommandArgs, projectOption } from '../args';
import { EXIT } from '../exit-codes';
import { localContext } from '../local-context';
import { findFeed } from './run';

/** `dropkit history FEED`: every recorded run of a feed, newest slot first: status, failed step, rows, error. */
export async function historyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('history', args, {
    ...projectOption,
    partner: { type: 'string' },
    limit: { type: 'string', default: '20' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('dropkit history takes one feed');
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${values.limit} is not a positive whole number`);
  const project = loadProject(values.project);
  const feed = findFeed(project.feeds, positionals[0]);
  const { store } = localContext(project, { out: values.out, console: false });

  const records: RunRecord[] = [];
  for await (const o of store.list(runRecordsPrefix(project.spec.prefix, feed.spec.name))) {
    const got = await store.get(o.key);
    if (got) records.push(JSON.parse(got.body.toString('utf8')) as RunRecord);
  }
  const shown = records
    .filter((r) => values.partner === undefined || r.partner === values.partner)
    .sort((a, b) => (b.slot + b.startedAt).localeCompare(a.slot + a.startedAt))
    .slice(0, limit);
  if (values.json) {
    process.stdout.write(JSON.stringify({ feed: feed.spec.name, runs: shown }) + '\n');
    return EXIT.ok;
  }
  if (shown.length === 0) {
    process.stdout.write(`${feed.spec.name}: no runs recorded yet\n`);
    return EXIT.ok;
  }
  const lines = shown.map((r) => {
    const who = r.partner ? ` [${r.partner}]` : '';
    const what = r.status === 'delivered' ? `delivered ${r.rowCount} rows` : r.status === 'running' ? `running (at ${r.step})` : `${r.status.replace('_', ' ')} at ${r.step}: ${r.error?.message.split('\n')[0] ?? ''}`;
    const warned = r.validation?.checks.filter((c) => c.outcome === 'warn').length ?? 0;
    return `${r.slot}${who}  r${r.revision}  ${what}${warned ? `  (${warned} warning${warned === 1 ? '' : 's'})` : ''}  ${r.runId}`;
  });
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}
