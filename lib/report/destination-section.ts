import type { DestinationReport } from './destination-data';
import { esc, time } from './html';

/** A destination outcome in the report's colours: delivered green, partial (rows rejected) amber, failed red, pending blue. */
const LOOK: Record<NonNullable<DestinationReport['last']>['status'], string> = {
  delivered: 'MET',
  partial: 'LATE',
  failed: 'MISSED',
  pending: 'PENDING',
};

function outcome(d: DestinationReport, feed: string): string {
  const last = d.last;
  if (!last) return '<span class="muted">no drop yet</span>';
  const badge = `<span class="badge s-${LOOK[last.status]}">${esc(last.status.toUpperCase())}</span>`;
  const rows = last.rowsSent || last.rowsRejected ? ` · ${last.rowsSent} rows sent` : '';
  const rejected = last.rowsRejected ? `, <b>${last.rowsRejected} rejected</b> (dead letter <code>${esc(last.deadLetter ?? '')}</code>)` : '';
  const what =
    last.status === 'failed'
      ? `${esc(last.error)}<br><span class="muted">fix it, then <code>dropkit repair ${esc(feed)}</code> pushes again from where it stopped</span>`
      : last.status === 'pending'
        ? '<span class="muted">not pushed yet</span>'
        : `${last.files} file${last.files === 1 ? '' : 's'}${rows}${rejected}`;
  return `${badge} ${what}`;
}

/** The feed page's destinations: where each drop is pushed, per partner, and how the newest push went. */
export function destinationSection(destinations: readonly DestinationReport[] | undefined, feed: string): string {
  if (!destinations?.length) return '';
  return `<h2>Destinations</h2>
<p class="sub">Where each drop is pushed after it is published, and what the newest drop's push did.</p>
<table class="destinations"><thead><tr><th>Partner</th><th>Destination</th><th>Sends</th><th>Newest push</th><th>Finished</th><th>Slot</th></tr></thead><tbody>
${destinations
  .map(
    (d) =>
      `<tr data-destination="${esc(d.destination)}" data-status="${esc(d.last?.status ?? 'none')}"><td>${esc(d.partner ?? '–')}</td><td><b>${esc(d.destination)}</b><br><span class="muted">${esc(d.kind)} · <code>${esc(d.target)}</code></span></td><td>${esc(d.mode)}</td><td style="word-break:break-word">${outcome(d, feed)}</td><td style="white-space:nowrap">${time(d.last?.finishedAt ?? null)}</td><td>${d.last ? `<code>${esc(d.last.slot)}</code>` : '–'}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`;
}

/** For the front page's catalogue: each destination's newest outcome in a word. */
export function destinationSummary(destinations: readonly DestinationReport[] | undefined): string {
  if (!destinations?.length) return '';
  const items = destinations.map(
    (d) =>
      `<span data-destination="${esc(d.destination)}">${esc(d.destination)}${d.partner ? ` [${esc(d.partner)}]` : ''} ${esc(d.last?.status ?? 'no drop yet')}</span>`,
  );
  return `<br><span class="muted">pushed to ${items.join(', ')}</span>`;
}
