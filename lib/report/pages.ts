import { humanDuration } from '../core/notices/event-text';
import { badge, esc, page, relativeHref, time } from './html';
import { latenessChart } from './lateness-chart';
import { profileSection } from './profile-section';
import type { FeedReport, ReportData } from './report-data';

/** File name of a feed's page, relative to the index. Feed names are [a-z0-9_-], safe as file names. */
export function feedPagePath(feed: string): string {
  return `feeds/${feed}.html`;
}

const PROBLEMS_SHOWN = 20;

const LEGEND = ['MET', 'LATE', 'AT_RISK', 'MISSED', 'FAILED', 'RUNNING', 'NOT_EXPECTED']
  .map((s) => `<span><i class="s-${s}"></i>${s.replace('_', ' ')}</span>`)
  .join('');

/** The catalogue: every feed as a data product, with its current state. */
export function renderIndex(data: ReportData): string {
  const rows = data.feeds.map(
    (f) => `<tr data-feed="${esc(f.name)}">
<td><a href="${esc(feedPagePath(f.name))}"><b>${esc(f.name)}</b></a><br><span class="muted">${esc(f.description)}</span></td>
<td>${esc(f.owner)}</td>
<td>${esc(f.schedule.words)}<br><span class="muted">${esc(f.schedule.timezone)} · <code>${esc(f.schedule.cron)}</code></span></td>
<td>${esc(f.sla)}</td>
<td>${esc(f.formats.join(', '))}</td>
<td>${f.partners.length ? esc(f.partners.map((p) => p.name ?? p.id).join(', ')) : '<span class="muted">none listed</span>'}<br><span class="muted">${esc(f.delivery)}</span></td>
<td>${badge(f.state)}<br><span class="muted">${esc(f.stateDetail)}</span></td>
</tr>`,
  );
  return page(
    `${data.project}: data feeds`,
    `<h1>${esc(data.project)}: data feeds</h1>
<p class="sub">${data.feeds.length} feed${data.feeds.length === 1 ? '' : 's'} · record from ${time(data.window.from)} to ${time(data.window.to)} · generated ${time(data.generatedAt)}</p>
<table class="catalogue">
<thead><tr><th>Feed</th><th>Owner</th><th>Schedule</th><th>SLA</th><th>Formats</th><th>Partners</th><th>Now</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`,
  );
}

function schemaSection(f: FeedReport): string {
  const latest = f.latestSchema
    ? `<p>Columns of the latest drop (slot <code>${esc(f.latestSchema.slot)}</code>${f.latestSchema.partner ? `, partner ${esc(f.latestSchema.partner)}` : ''}):</p>
<table class="schema"><thead><tr><th>#</th><th>Column</th><th>Type</th><th>Nullable</th></tr></thead><tbody>
${f.latestSchema.columns.map((c, i) => `<tr><td>${i + 1}</td><td><code>${esc(c.name)}</code></td><td>${esc(c.type)}</td><td>${c.nullable ? 'yes' : 'no'}</td></tr>`).join('\n')}
</tbody></table>`
    : '<p class="muted">No drop delivered yet.</p>';
  const declared = f.schemaCheck
    ? `<p>Declared by the <code>schema</code> check (${f.schemaCheck.allowExtra ? 'extra columns allowed' : 'no extra columns'}, ${f.schemaCheck.ordered ? 'in this order' : 'any order'}):</p>
<table class="schema-check"><thead><tr><th>Column</th><th>Type</th></tr></thead><tbody>
${f.schemaCheck.columns.map((c) => `<tr><td><code>${esc(c.name)}</code></td><td>${esc(c.type)}</td></tr>`).join('\n')}
</tbody></table>`
    : '<p class="muted">No schema check is declared.</p>';
  return `<h2>Schema</h2>\n${latest}\n${declared}`;
}

/** One feed: what it is, its schema and checks, its lateness over time, counts and latest drops. */
export function renderFeedPage(data: ReportData, f: FeedReport, options: { storeBase: string }): string {
  const counts = (['MET', 'LATE', 'MISSED', 'FAILED'] as const)
    .map((s) => `<div class="count" data-count="${s}"><span class="badge s-${s}">${s}</span><b>${f.counts[s]}</b></div>`)
    .join('');
  const checks = f.checks.length
    ? `<table class="checks"><thead><tr><th>Check</th><th>Type</th><th>Severity</th><th>Settings</th></tr></thead><tbody>
${f.checks.map((c) => `<tr><td>${esc(c.name)}</td><td><code>${esc(c.type)}</code></td><td>${esc(c.severity)}</td><td>${esc(c.settings)}</td></tr>`).join('\n')}
</tbody></table>`
    : '<p class="muted">No checks.</p>';
  const drops = f.drops.length
    ? `<table class="drops"><thead><tr><th>Slot</th><th>Partner</th><th>Delivered</th><th>SLA</th><th>Rows</th><th>Revision</th><th>Manifest</th></tr></thead><tbody>
${f.drops
  .map(
    (d) =>
      `<tr><td><code>${esc(d.slot)}</code></td><td>${esc(d.partner ?? '–')}</td><td>${time(d.deliveredAt)}</td><td>${badge(d.state)}${d.state === 'LATE' ? ` ${esc(humanDuration(d.latenessSeconds ?? 0))}` : ''}</td><td>${esc(d.rowCount ?? '–')}</td><td>r${esc(d.revision ?? '')}</td>` +
      `<td>${d.manifest ? `<a class="manifest" href="${relativeHref(options.storeBase, d.manifest)}">manifest.json</a>` : '–'}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`
    : '<p class="muted">No drop delivered in this period.</p>';
  const allProblems = f.slots.filter((s) => s.state === 'MISSED' || s.state === 'FAILED' || s.state === 'AT_RISK').reverse();
  // The newest are what a reader acts on; the chart and counts show the rest.
  const problems = allProblems.slice(0, PROBLEMS_SHOWN);
  const more = allProblems.length - problems.length;
  const problemList = problems.length
    ? `<table class="problems"><thead><tr><th>Slot</th><th>Partner</th><th>Due</th><th>State</th><th>What happened</th></tr></thead><tbody>
${problems.map((s) => `<tr data-state="${esc(s.state)}"><td><code>${esc(s.slot)}</code></td><td>${esc(s.partner ?? '–')}</td><td>${time(s.expectedBy)}</td><td>${badge(s.state)}</td><td>${esc(s.detail)}</td></tr>`).join('\n')}
</tbody></table>${more > 0 ? `\n<p class="muted">and ${more} older</p>` : ''}`
    : '<p class="muted">No missed, failed or at-risk slot in this period.</p>';
  return page(
    `${f.name}: ${data.project}`,
    `<p><a href="../index.html">← all feeds</a></p>
<h1>${esc(f.name)} ${badge(f.state)}</h1>
<p class="sub">${esc(f.description)}</p>
<table class="about"><tbody>
<tr><th>Owner</th><td>${esc(f.owner)}</td></tr>
<tr><th>Schedule</th><td>${esc(f.schedule.words)}, ${esc(f.schedule.timezone)} time (<code>${esc(f.schedule.cron)}</code>)</td></tr>
<tr><th>SLA</th><td>${esc(f.sla)}</td></tr>
<tr><th>Formats</th><td>${esc(f.formats.join(', '))}</td></tr>
<tr><th>Delivery</th><td>${esc(f.delivery)}${f.partners.length ? ` to ${esc(f.partners.map((p) => (p.name ? `${p.name} (${p.id})` : p.id)).join(', '))}` : ''}</td></tr>
<tr><th>Now</th><td>${esc(f.stateDetail)}</td></tr>
</tbody></table>
<h2>Delivery record</h2>
<p class="sub">${f.slots.length} slot${f.slots.length === 1 ? '' : 's'} from ${time(data.window.from)} to ${time(data.window.to)}</p>
<div class="counts">${counts}</div>
${latenessChart(f.slots)}
<div class="legend">${LEGEND}</div>
<p id="bar-detail" aria-live="polite"></p>
<h2>Missed, failed and at-risk slots</h2>
${problemList}
<h2>Latest drops</h2>
${drops}
${schemaSection(f)}
${profileSection(f.profile)}
<h2>Checks</h2>
${checks}`,
  );
}
