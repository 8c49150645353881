import { watchedFeedsOf } from '../../core/sla-watch/watched-feeds';
import { DateTime } from 'luxon';
import { deliveryPartners } from '../../core/feed/feed-definition';
import { slaWatch, SlaWatchOutput } from '../../core/sla-watch/sla-watch';
import { SLA_STATES } from '../../core/sla-watch/slot-state';
import { UsageError } from '../../core/errors';
import { isDuration } from '../../core/duration';
import type { Notifier } from '../../core/ports/notifier';
import { loadProject, Project } from '../../project/load-project';
import { consumerNotifiers, operatorNotifiers } from '../../runner/local-notifiers';
import { expireHeldDrops } from '../../runner/run-slot';
import { parseCommandArgs, parseTimeArg, projectOption } from '../args';
import { EXIT } from '../exit-codes';
import { localContext } from '../local-context';

export { SLA_USAGE } from '../help';

/** The plain-JSON view of a project's feeds the watch takes (what a Lambda would be given). */
export function watchedFeeds(project: Project) {
  return watchedFeedsOf(project.feeds);
}

/**
 * `dropkit sla`: the SLA watch over every feed of a project. Prints one row per slot of the
 * look-back window, tells partners and operators of changes (once), and exits 0 only when every
 * slot is MET, LATE or NOT_EXPECTED: 4 when one is AT_RISK, MISSED or FAILED, 5 when the rest is
 * fine but a slot is still PENDING or RUNNING.
 */
export async function slaCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('sla', args, {
    ...projectOption,
    at: { type: 'string' },
    'look-back': { type: 'string', default: 'P2D' },
    'report-only': { type: 'boolean', default: false },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new UsageError(`dropkit sla takes no feed name (got ${positionals.join(' ')}); it watches every feed of the project`);
  if (!isDuration(values['look-back'])) throw new UsageError(`--look-back ${values['look-back']} is not an ISO-8601 duration; give e.g. P2D or PT12H`);
  const project = loadProject(values.project);
  const at = values.at ? parseTimeArg('--at', values.at) : undefined;
  const ctx = localContext(project, { out: values.out, now: at?.toISOString(), console: false });
  const { store, storeRoot, clock } = ctx;
  // Drops held for sign-off past their timeout are rolled back first: the watch then sees them FAILED at approve.
  if (!values['report-only']) await expireHeldDrops(ctx.deps);
  // Build every notifier first: a missing webhook secret stops the watch before it claims anything.
  const consumers = new Map<string, Notifier[]>();
  if (!values['report-only']) {
    for (const feed of project.feeds) {
      for (const partner of deliveryPartners(feed))
        consumers.set(`${feed.spec.name}\n${partner ?? ''}`, consumerNotifiers(feed, partner, { storeRoot, console: false }));
    }
  }
  const out = await slaWatch(
    {
      feeds: watchedFeeds(project),
      prefix: project.spec.prefix,
      exceptDates: project.spec.calendar?.exceptDates ?? [],
      lookBack: values['look-back'],
      notify: !values['report-only'],
    },
    {
      store,
      clock,
      notifiers: {
        consumers: (feed, partner) => consumers.get(`${feed}\n${partner ?? ''}`) ?? [],
        operators: operatorNotifiers({ storeRoot, console: false }),
      },
    },
  );
  const code = out.attention ? EXIT.slaAttention : out.allDelivered ? EXIT.ok : EXIT.slaOpen;
  if (values.json)
    process.stdout.write(
      JSON.stringify({ status: code === EXIT.ok ? 'ok' : code === EXIT.slaAttention ? 'attention' : 'open', exitCode: code, ...out }) + '\n',
    );
  else process.stdout.write(slaTable(out, project) + '\n');
  return code;
}

function local(iso: string, tz: string): string {
  return DateTime.fromISO(iso, { zone: tz }).toFormat('yyyy-MM-dd HH:mm ZZZZ');
}

/** The watch as a table a person reads: one row per slot, then counts and the notices sent. */
export function slaTable(out: SlaWatchOutput, project: Project): string {
  const head = `SLA at ${out.at} (slots since ${out.window.from}) · ${project.spec.name}`;
  if (out.slots.length === 0) return `${head}\nno slots in the window; widen it with --look-back`;
  const rows = out.slots.map((s) => [s.feed, s.partner ?? '-', s.slot, local(s.expectedBy, s.timezone), s.state, s.detail]);
  const header = ['feed', 'partner', 'slot', 'expected by', 'state', 'detail'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const counts = SLA_STATES.filter((s) => out.counts[s] > 0)
    .map((s) => `${out.counts[s]} ${s}`)
    .join(', ');
  const notices = out.notices.length
    ? `${out.notices.length} notice${out.notices.length === 1 ? '' : 's'} sent: ${out.notices.map((n) => `${n.type} ${n.feed}${n.partner ? ` [${n.partner}]` : ''} ${n.slot}`).join('; ')}`
    : 'no new notices';
  const conflicts = out.conflicts.length ? [`${out.conflicts.length} slot(s) changed under another watch; they are told on the next watch`] : [];
  return [head, '', line(header), ...rows.map(line), '', counts, notices, ...conflicts].join('\n');
}
