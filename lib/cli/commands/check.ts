import { DateTime } from 'luxon';
import { parseCron } from '../../core/cron';
import { deadlineFor } from '../../core/sla';
import { nextSlot } from '../../core/slots';
import { ConfigError } from '../../core/errors';
import { loadProject } from '../../project/load-project';
import { compileFeedSql } from '../compile-sql';
import { parseCommandArgs, parseTimeArg, projectOption } from '../args';
import { EXIT } from '../exit-codes';

const SLOTS_SHOWN = 3;

/** `dropkit check`: validates every feed (all problems at once) and shows the next slots and deadlines. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('check', args, { ...projectOption, now: { type: 'string' }, json: { type: 'boolean', default: false } });
  const project = loadProject(values.project);
  const now = values.now ? parseTimeArg('--now', values.now) : new Date();
  // Broken SQL fails here, with file:line:column, not in the first run.
  const compiled = await compileFeedSql(project, now);
  if (compiled.problems.length > 0) throw new ConfigError(compiled.problems);
  const feeds = project.feeds.map((feed) => {
    const { schedule, sla } = feed.spec;
    const cron = parseCron(schedule.cron);
    const slots: { slot: string; local: string; deadline: string; deadlineLocal: string }[] = [];
    let at = now;
    for (let i = 0; i < SLOTS_SHOWN; i++) {
      at = nextSlot(cron, schedule.timezone, at);
      const deadline = deadlineFor(sla, at, schedule.timezone);
      slots.push({
        slot: at.toISOString(),
        local: local(at, schedule.timezone),
        deadline: deadline.toISOString(),
        deadlineLocal: local(deadline, schedule.timezone),
      });
    }
    return {
      name: feed.spec.name,
      file: feed.file,
      cron: schedule.cron,
      timezone: schedule.timezone,
      eventBridge: feed.eventBridgeCron,
      delivery: feed.spec.delivery,
      partners: feed.spec.partners.map((p) => p.id),
      formats: Object.keys(feed.spec.formats),
      checks: feed.spec.checks.length,
      nextSlots: slots,
      columns: compiled.feeds.find((c) => c.feed === feed.spec.name)?.columns ?? [],
    };
  });
  if (values.json) {
    process.stdout.write(JSON.stringify({ status: 'valid', project: project.spec.name, feeds }, null, 2) + '\n');
    return EXIT.ok;
  }
  const out: string[] = [`✓ ${project.spec.name}: ${feeds.length} feed${feeds.length === 1 ? '' : 's'} valid`];
  for (const f of feeds) {
    out.push('', `${f.name}  (${f.file})`);
    out.push(`  schedule  ${f.cron} in ${f.timezone}  →  EventBridge ${f.eventBridge}`);
    out.push(
      `  delivers  ${f.formats.join(' + ')}, ${f.delivery === 'per-partner' ? `one drop per partner (${f.partners.join(', ')})` : `shared${f.partners.length ? ` with ${f.partners.join(', ')}` : ''}`}; ${f.checks} check${f.checks === 1 ? '' : 's'}`,
    );
    out.push(
      f.columns.length
        ? `  returns   ${f.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`
        : '  returns   (not compiled: dropkit.yaml declares no local sources)',
    );
    for (const s of f.nextSlots) out.push(`  slot ${s.local}  (${s.slot})  due by ${s.deadlineLocal}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return EXIT.ok;
}

function local(at: Date, tz: string): string {
  return DateTime.fromJSDate(at, { zone: tz }).toFormat('yyyy-MM-dd HH:mm ZZZZ');
}
