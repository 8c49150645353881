import { UsageError } from '../../core/errors';
import { repairAll } from '../../core/steps/repair';
import { loadProject } from '../../project/load-project';
import { parseCommandArgs, projectOption, storeChoice, storeOptions } from '../args';
import { EXIT } from '../exit-codes';
import { localContext } from '../local-context';
import { findFeed } from './run';

/**
 * `dropkit repair [FEED]`: finishes what runs that died left behind. A delivered run gets its
 * pointer, retention, run record and notice; a run that died before its manifest is recorded as
 * failed and its leftovers go. Runs that are still going are left alone.
 */
export async function repairCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('repair', args, {
    ...projectOption,
    ...storeOptions,
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    now: { type: 'string' },
  });
  if (positionals.length > 1) throw new UsageError('dropkit repair takes at most one feed');
  const project = loadProject(values.project);
  const feed = positionals[0] ? findFeed(project.feeds, positionals[0]).spec.name : undefined;
  const ctx = localContext(project, { out: values.out, now: values.now, console: !values.json, ...storeChoice(values) });
  const results = await repairAll({ prefix: project.spec.prefix, feed }, ctx.deps);
  const acted = results.filter((r) => r.action !== 'none');
  if (values.json) {
    process.stdout.write(JSON.stringify({ status: 'ok', repaired: acted }) + '\n');
  } else {
    if (acted.length === 0) process.stdout.write('nothing to repair\n');
    for (const r of acted)
      process.stdout.write(
        `${r.runId}: ${r.action}${r.notice === 'sent' ? ', notice sent' : ''}${r.pending.length ? `; still pending: ${r.pending.join('; ')}` : ''}\n`,
      );
  }
  return acted.some((r) => r.pending.length > 0) ? EXIT.failure : EXIT.ok;
}
