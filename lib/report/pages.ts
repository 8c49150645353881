import { humanDuration } from '../core/notices/event-text';
import { badge, esc, page, relativeHref, slotWords, time } from './html';
import { latenessChart } from './lateness-chart';
import { metricsSection } from './metrics-section';
import { COUNTED_STATES, OPEN_PROBLEMS, severityRank, type FeedReport, type ReportData } from './report-data';
import { profileSection } from './profile-section';
import { destinationSection, destinationSummary } from './destination-section';

/** File name of a feed's page, relative to the index. Feed names are [a-z0-9_-], safe as file names. */
export function feedPagePath(feed: string): string {
  return `feeds/${feed}.html`;
}

const PROBLEMS_SHOWN = 20;

const LEGEND = ['MET', 'LATE', 'AT_RISK', 'MISSED', 'FAILED', 'RUNNING', 'NOT_EXPECTED']
  .map((s) => `<span><i class="s-${s}"></i>${s.replace('_', ' ')}</span>`)
  .join('');

const WRONG_SHOWN = 50;

function partnerList(f: FeedReport, now: string): string {
  const items = f.partnerStates.map((p) => {
    const who = p.partner === null ? '' : `<b>${esc(p.partner)}</b> `;
    const what = p.slot
      ? `${esc(slotWords(p.slot, now))} <span class="muted">· <code>${esc(p.slot.slot)}</code></span>`
      : '<span class="muted">no slot yet</span>';
    const more = p.openProblems > 1 ? ` <span class="muted">(+${p.openProblems - 1} more open)</span>` : '';
    return `<li data-partner="${esc(p.partner ?? '')}" data-state="${esc(p.state)}">${badge(p.state)} ${who}${what}${more}</li>`;
  });
  return `<ul class="partners">${items.join('')}</ul>`;
}

function countCells(f: FeedReport): string {
  return COUNTED_STATES.map((s) => `<td class="n" data-count="${s}">${f.counts[s] ? `<b>${f.counts[s]}</b>` : '<span class="muted">0</span>'}</td>`).join('');
}

/**
 * The front page answers "what is wrong now" first: every open problem (FAILED, MISSED, AT_RISK)
 * of every feed and partner, worst first, in words with the slot id second; then the feeds,
 * sorted by their worst state, with counts per state and every partner's state.
 */
export function renderIndex(data: ReportData): string {
  const now = data.generatedAt;
  const wrong = data.feeds
    .flatMap((f) => f.open.map((s) => ({ f, s })))
    .sort((a, b) => severityRank(a.s.state) - severityRank(b.s.state) || b.s.slot.localeCompare(a.s.slot) || a.f.name.localeCompare(b.f.name));
  const totals = OPEN_PROBLEMS.map((state) => `${badge(state)} <b data-total="${state}">${wrong.filter((w) => w.s.state === state).length}</b>`).join(
    ' &nbsp; ',
  );
  const wrongTable = wrong.length
    ? `<p>${totals}</p>
<table class="wrong"><thead><tr><th>Feed</th><th>Partner</th><th>State</th><th>What</th><th>Slot</th></tr></thead><tbody>
${wrong
  .slice(0, WRONG_SHOWN)
  .map(
    ({ f, s }) =>
      `<tr data-feed="${esc(f.name)}" data-state="${esc(s.state)}"><td><a href="${esc(feedPagePath(f.name))}">${esc(f.name)}</a></td><td>${esc(s.partner ?? '–')}</td><td>${badge(s.state)}</td><td>${esc(slotWords(s, now))}</td><td><code>${esc(s.slot)}</code></td></tr>`,
  )
  .join('\n')}
</tbody></table>${wrong.length > WRONG_SHOWN ? `\n<p class="muted">and ${wrong.length - WRONG_SHOWN} more on the feed pages</p>` : ''}`
    : '<p class="ok" data-total="none">Nothing is wrong: every slot in this period is delivered or not yet due.</p>';
  const rows = data.feeds.map(
    (f) => `<tr data-feed="${esc(f.name)}" data-worst="${esc(f.worst)}">
<td><a href="${esc(feedPagePath(f.name))}"><b>${esc(f.name)}</b></a><br><span class="muted">${esc(f.description)}</span></td>
<td>${partnerList(f, now)}</td>
${countCells(f)}
<td>${esc(f.schedule.words)}<br><span class="muted">${esc(f.schedule.timezone)} · <code>${esc(f.schedule.cron)}</code></span><br><span class="muted">${esc(f.sla)}</span></td>
<td>${esc(f.owner)}<br><span class="muted">${esc(f.formats.join(', '))} · ${esc(f.delivery)}${f.partners.length ? ` to ${esc(f.partners.map((p) => p.name ?? p.id).join(', '))}` : ''}</span>${destinationSummary(f.destinations)}</td>
</tr>`,
  );
  return page(
    `${data.project}: data feeds`,
    `<h1>${esc(data.project)}: data feeds</h1>
<p class="sub">${data.feeds.length} feed${data.feeds.length === 1 ? '' : 's'} · record from ${time(data.window.from)} to ${time(data.window.to)} · generated ${time(data.generatedAt)}</p>
<h2>What is wrong now</h2>
${wrongTable}
<h2>Feeds, worst first</h2>
<table class="catalogue">
<thead><tr><th>Feed</th><th>Now, per partner</th>${COUNTED_STATES.map((s) => `<th class="n">${s.replace('_', ' ')}</th>`).join('')}<th>Schedule and SLA</th><th>Owner and delivery</th></tr></thead>
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

/** One chart per partner of a per-partner feed, so each partner's bars form their own series. */
function charts(f: FeedReport): string {
  if (f.delivery !== 'per-partner') return latenessChart(f.slots);
  return f.partnerStates
    .map(
      (p) =>
        `<h3 class="chart-partner">${esc(p.partner ?? '')} ${badge(p.state)}</h3>\n${latenessChart(
          f.slots.filter((s) => s.partner === p.partner),
          p.partner,
        )}`,
    )
    .join('\n');
}

/** One feed: what it is, its schema and checks, its lateness over time, counts and latest drops. */
export function renderFeedPage(data: ReportData, f: FeedReport, options: { storeBase: string }): string {
  const counts = COUNTED_STATES.map(
    (s) =>
      `<div class="count${f.counts[s] ? '' : ' zero'}" data-count="${s}"><span class="badge s-${s}">${s.replace('_', ' ')}</span><b>${f.counts[s]}</b></div>`,
  ).join('');
  const results = f.latestResults.length
    ? `<table class="check-results"><thead><tr><th>Check</th><th>Outcome</th><th>Observed</th><th>Threshold</th><th>Message</th><th>Slot</th></tr></thead><tbody>
${f.latestResults
  .map(
    (r) =>
      `<tr data-outcome="${esc(r.outcome)}"><td>${esc(r.name)}<br><span class="muted"><code>${esc(r.type)}</code> · ${esc(r.severity)}</span></td><td><span class="badge o-${esc(r.outcome)}">${esc(r.outcome.toUpperCase())}</span></td><td><code>${esc(r.observed)}</code></td><td><code>${esc(r.threshold)}</code></td><td>${esc(r.message)}</td><td><code>${esc(r.slot)}</code>${r.partner ? ` ${esc(r.partner)}` : ''}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`
    : '<p class="muted">No check has run yet.</p>';
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
${problems.map((s) => `<tr data-state="${esc(s.state)}"><td><code>${esc(s.slot)}</code></td><td>${esc(s.partner ?? '–')}</td><td>${time(s.expectedBy)}</td><td>${badge(s.state)}</td><td>${esc(slotWords(s, data.generatedAt))}<br><span class="muted">${esc(s.detail)}</span></td></tr>`).join('\n')}
</tbody></table>${more > 0 ? `\n<p class="muted">and ${more} older</p>` : ''}`
    : '<p class="muted">No missed, failed or at-risk slot in this period.</p>';
  return page(
    `${f.name}: ${data.project}`,
    `<p><a href="../index.html">← all feeds</a></p>
<h1>${esc(f.name)} ${badge(f.worst)}</h1>
<p class="sub">${esc(f.description)}</p>
<table class="about"><tbody>
<tr><th>Owner</th><td>${esc(f.owner)}</td></tr>
<tr><th>Schedule</th><td>${esc(f.schedule.words)}, ${esc(f.schedule.timezone)} time (<code>${esc(f.schedule.cron)}</code>)</td></tr>
<tr><th>SLA</th><td>${esc(f.sla)}</td></tr>
<tr><th>Formats</th><td>${esc(f.formats.join(', '))}</td></tr>
<tr><th>Delivery</th><td>${esc(f.delivery)}${f.partners.length ? ` to ${esc(f.partners.map((p) => (p.name ? `${p.name} (${p.id})` : p.id)).join(', '))}` : ''}</td></tr>
<tr><th>Now</th><td>${partnerList(f, data.generatedAt)}</td></tr>
</tbody></table>
<h2>Delivery record</h2>
<p class="sub">${f.slots.length} slot${f.slots.length === 1 ? '' : 's'} from ${time(data.window.from)} to ${time(data.window.to)}</p>
<div class="counts">${counts}</div>
${charts(f)}
<div class="legend">${LEGEND}</div>
<p id="bar-detail" aria-live="polite"></p>
<h2>Missed, failed and at-risk slots</h2>
${problemList}
<h2>Latest drops</h2>
${drops}
${destinationSection(f.destinations, f.name)}
${schemaSection(f)}
${profileSection(f.profile)}
${metricsSection(f.metrics)}
<h2>Checks: latest results</h2>
${results}
<h3>Declared checks</h3>
${checks}`,
  );
}
