import { DateTime } from 'luxon';
import { parseRunRecord, RunRecord } from '../../core/run-record';
import { deliveryRecord } from '../../core/sla-watch/delivery-record';
import type { SlotStatus } from '../../core/sla-watch/slot-state';
import { humanDuration } from '../../core/notices/event-text';
import type { FeedDefinition } from '../../core/feed/feed-definition';
import type { Project } from '../../project/load-project';
import type { ObjectStore } from '../../core/ports/object-store';
import { runRecordsPrefix } from '../../core/layout';
import { UsageError } from '../../core/errors';
import { loadProject } from '../../project/load-project';
import { parseCommandArgs, parseTimeArg, projectOption, storeChoice, storeOptions } from '../args';
import { EXIT } from '../exit-codes';
import { formatBytes } from '../progress';
import type { DestinationRecord } from '../../core/ports/destination';
import { localContext } from '../local-context';
import { findFeed } from './run';

/**
 * `dropkit history FEED`: every recorded run of a feed, newest slot first: status, failed step,
 * rows, error. With --slots (or --from/--to) the delivery record instead: one row per slot that was
 * due, delivered or not, with its deadline, delivery time, lateness, SLA state, rows, validation
 * and revision.
 */
export async function historyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('history', args, {
    ...projectOption,
    ...storeOptions,
    partner: { type: 'string' },
    limit: { type: 'string', default: '20' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    slots: { type: 'boolean', default: false },
    runs: { type: 'boolean', default: false },
    from: { type: 'string' },
    to: { type: 'string' },
    now: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('dropkit history takes one feed');
  const perSlot = values.slots || values.from !== undefined || values.to !== undefined;
  if (perSlot && values.runs) throw new UsageError('--runs lists runs; --slots, --from and --to list slots: give one or the other');
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${values.limit} is not a positive whole number`);
  const project = loadProject(values.project);
  const feed = findFeed(project.feeds, positionals[0]);
  const { store, clock } = localContext(project, {
    out: values.out,
    now: values.now ? parseTimeArg('--now', values.now).toISOString() : undefined,
    console: false,
    ...storeChoice(values),
  });
  if (perSlot) return slotHistory(project, feed, store, clock.now(), { ...values, limit });

  const records: RunRecord[] = [];
  for await (const o of store.list(runRecordsPrefix(project.spec.prefix, feed.spec.name))) {
    const got = await store.get(o.key);
    if (got) records.push(parseRunRecord(got.body, o.key));
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
    const what =
      r.status === 'delivered'
        ? `delivered ${r.rowCount} rows`
        : r.status === 'running'
          ? `running (at ${r.step})`
          : `${r.status.replace('-', ' ')} at ${r.step}: ${failedChecks(r) ?? r.error?.message.split('\n')[0] ?? ''}`;
    const warned = r.validation?.checks.filter((c) => c.outcome === 'warn').length ?? 0;
    const took = r.finishedAt ? `  in ${runDuration(Date.parse(r.finishedAt) - Date.parse(r.startedAt))}` : '';
    const line = `${r.slot}${who}  r${r.revision}  ${what}${took}${warned ? `  (${warned} warning${warned === 1 ? '' : 's'})` : ''}  ${r.runId}`;
    return [line, ...destinationLines(r.destinations ?? [], feed.spec.name)].join('\n');
  });
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}

const DAY_MS = 86_400_000;

/** One line per destination of a run, under it: what it received, or why not and what to do. */
export function destinationLines(records: readonly DestinationRecord[], feed: string): string[] {
  return records.map((d) => {
    // Files for file destinations, rows for APIs (which send batches of rows, not files).
    const rows =
      d.rowsSent || d.rowsRejected ? `${d.rowsSent} rows sent${d.rowsRejected ? `, ${d.rowsRejected} rejected (dead letter ${d.deadLetter ?? '-'})` : ''}` : '';
    const files = d.files || !rows ? `${d.files} file${d.files === 1 ? '' : 's'}, ${formatBytes(d.bytes)}` : '';
    const sent = [files, rows].filter(Boolean).join(', ');
    const what =
      d.status === 'failed'
        ? `failed: ${d.errors[0]?.message ?? 'unknown error'} (after ${sent}; fix it, then dropkit repair ${feed})`
        : `${d.status} ${d.mode === 'full' ? '' : `${d.mode} `}${sent}`;
    return `    → ${d.destination} (${d.target})  ${what}  at ${d.finishedAt}`;
  });
}

/** A run's length for people: 850 ms, 4.2 s, 3 min 05 s. */
export function runDuration(ms: number): string {
  if (!(ms >= 0)) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** A validation failure says which checks failed, not the error's "nothing was published:" line. */
function failedChecks(r: RunRecord): string | undefined {
  const failing = (r.validation?.checks ?? []).filter((c) => c.outcome === 'fail' || c.outcome === 'error');
  return failing.length ? failing.map((c) => `${c.name} ${c.outcome === 'error' ? 'could not run' : 'failed'}`).join(', ') : undefined;
}

async function slotHistory(
  project: Project,
  feed: FeedDefinition,
  store: ObjectStore,
  now: Date,
  values: { from?: string; to?: string; partner?: string; limit: number; json: boolean },
): Promise<number> {
  const to = values.to ? parseTimeArg('--to', values.to) : now;
  // Without --from, the newest --limit slots of the last 366 days.
  const from = values.from ? parseTimeArg('--from', values.from) : new Date(to.getTime() - 366 * DAY_MS);
  if (from.getTime() > to.getTime()) throw new UsageError(`--from ${values.from} is after --to ${values.to ?? to.toISOString()}`);
  const s = feed.spec;
  const slots = await deliveryRecord(
    {
      feed: s,
      prefix: project.spec.prefix,
      from,
      to,
      now,
      exceptDates: project.spec.calendar?.exceptDates ?? [],
      partner: values.partner,
      newest: values.from ? undefined : values.limit,
    },
    store,
  );
  const newestFirst = [...slots].reverse();
  if (values.json) {
    process.stdout.write(JSON.stringify({ feed: s.name, from: from.toISOString(), to: to.toISOString(), slots: newestFirst }) + '\n');
    return EXIT.ok;
  }
  if (newestFirst.length === 0) {
    process.stdout.write(`${s.name}: no slots between ${from.toISOString()} and ${to.toISOString()}\n`);
    return EXIT.ok;
  }
  process.stdout.write(slotTable(newestFirst) + '\n');
  return EXIT.ok;
}

/** One row per slot: expected by, delivered at, lateness, state, rows, validation, revision. */
export function slotTable(slots: readonly SlotStatus[]): string {
  const local = (iso: string | null, tz: string) => (iso ? DateTime.fromISO(iso, { zone: tz }).toFormat('yyyy-MM-dd HH:mm ZZZZ') : '-');
  const header = ['slot', 'partner', 'expected by', 'delivered at', 'lateness', 'state', 'rows', 'validation', 'rev'];
  const rows = slots.map((r) => [
    r.slot,
    r.partner ?? '-',
    local(r.expectedBy, r.timezone),
    local(r.deliveredAt, r.timezone),
    r.latenessSeconds === null ? '-' : r.latenessSeconds === 0 ? '0' : humanDuration(r.latenessSeconds),
    r.state,
    r.rowCount === null ? '-' : String(r.rowCount),
    r.validation ?? (r.failure ? r.failure.kind : '-'),
    r.revision === null ? '-' : `r${r.revision}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
