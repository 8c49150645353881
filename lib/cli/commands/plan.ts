import { dirname, join } from 'node:path';
import { UsageError } from '../../core/errors';
import { planRun } from '../../core/steps/run-plan';
import { deliveryPartners } from '../../core/feed/feed-definition';
import { loadProject } from '../../project/load-project';
import { parseCommandArgs, parseTimeArg, slotOptions, storeChoice } from '../args';
import { EXIT } from '../exit-codes';
import { localContext } from '../local-context';
import { findFeed } from './run';
import { sha256Hex } from '../../core/hash';
import { ENGINE_NAMES } from '../../engines';
import { feedSqlFor } from '../../core/steps/stage';

/** `dropkit plan FEED`: what `run` would do (slot, data interval, deadline, run id, parameters, keys), without doing it. */
export async function planCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('plan', args, slotOptions);
  if (positionals.length !== 1) throw new UsageError('dropkit plan takes one feed');
  const project = loadProject(values.project);
  const feed = findFeed(project.feeds, positionals[0]);
  const ctx = localContext(project, { out: values.out, now: values.now, console: false, ...storeChoice(values) });
  // Which of the feed's SQL texts the engine would run (its dialect's name keys them; localContext refused an unknown --engine).
  const engine = values.engine ?? ENGINE_NAMES[0];
  const sql = feedSqlFor(feed, engine);
  const slot = values.slot ? parseTimeArg('--slot', values.slot) : undefined;
  const partners = values.partner ? [values.partner] : deliveryPartners(feed);
  const plans = [];
  for (const partner of partners) {
    plans.push(await planRun({ feed, prefix: project.spec.prefix, partner, slot, rerun: values.rerun }, { store: ctx.store, clock: ctx.clock }));
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(plans.length === 1 ? plans[0] : plans, null, 2) + '\n');
    return EXIT.ok;
  }
  const lines: string[] = [];
  for (const p of plans) {
    if (p.status === 'already-delivered') {
      const d = p.delivered;
      lines.push(
        `= ${feed.spec.name}${d.partner ? ` [${d.partner}]` : ''} slot ${d.slot}: already delivered (revision ${d.revision}, run ${d.runId}); --rerun would make revision ${d.revision + 1}`,
      );
      continue;
    }
    const plan = p.plan;
    lines.push(
      `${plan.feed}${plan.partner ? ` [${plan.partner}]` : ''} slot ${plan.slot.id} (revision ${plan.revision}${plan.supersedes ? `, supersedes ${plan.supersedes}` : ''})`,
      `  run id        ${plan.runId}`,
      `  engine        ${engine} (sql sha256 ${sha256Hex(sql)})`,
      `  data interval ${plan.slot.dataInterval.start} → ${plan.slot.dataInterval.end}`,
      `  expected by   ${plan.sla.expectedBy}${plan.sla.warnAt ? ` (warn at ${plan.sla.warnAt})` : ''}`,
      `  parameters    ${plan.parameters.map((x) => `$${x.name}=${JSON.stringify(x.value)}`).join(' ')}`,
      `  drop          ${plan.keys.drop}`,
      `  checks        ${feed.spec.checks.length ? feed.spec.checks.map((c) => `${c.name ?? c.type} (${c.type}, ${c.severity})`).join('; ') : 'none'}`,
    );
  }
  // What would run, once for all partners: the SQL as the engine gets it, parameters bound apart.
  lines.push(
    `  sql           ${join(dirname(feed.file), feed.sqlFiles[engine])}`,
    ...sql
      .trimEnd()
      .split('\n')
      .map((l) => `    | ${l}`),
  );
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}
