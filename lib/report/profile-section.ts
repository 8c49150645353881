import type { ColumnProfile } from '../core/profile/profile';
import { esc } from './html';
import type { FeedProfileReport, ProfilePoint } from './profile-data';

/**
 * The report's profile section of a feed: a card per column of the latest drop (NULL share,
 * distribution or value bars, trend over the period), drift results per drop, and a sample of the
 * latest rows with PII redacted. Plain inline SVG: no script, nothing from the network.
 */

const W = 220;
const TOP_SHOWN = 8;

const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;

function short(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string')
    return v
      .replace('T', ' ')
      .replace(/:00\.000Z$|\.000Z$/, '')
      .replace(/ 00:00$/, '');
  return Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : String(Math.round(v * 100) / 100);
}

const num = (v: number | string) => (typeof v === 'number' ? v : Date.parse(v));

/** The NULL share as a thin bar. */
function nullBar(c: ColumnProfile): string {
  const w = Math.round(c.nullFraction * W);
  return `<svg class="nullbar" width="${W}" height="8" viewBox="0 0 ${W} 8" role="img"><title>${esc(`${pct(c.nullFraction)} NULL`)}</title><rect width="${W}" height="8" fill="#d1d9e0"/><rect width="${w}" height="8" fill="#cf222e"/></svg>`;
}

/** Min to max as a line, p10–p90 as a box, deciles as ticks, the median bold. */
function distribution(c: ColumnProfile): string {
  if (c.min === null || c.min === undefined || c.max === null || c.max === undefined || !c.quantiles) return '<p class="muted">no values</p>';
  const lo = num(c.min);
  const hi = num(c.max);
  const x = (v: number | string) => (hi === lo ? W / 2 : 6 + ((num(v) - lo) / (hi - lo)) * (W - 12));
  const q = c.quantiles;
  const ticks = q.map(
    (v, i) =>
      `<line x1="${x(v)}" x2="${x(v)}" y1="${i === 4 ? 4 : 8}" y2="${i === 4 ? 28 : 24}" stroke="${i === 4 ? '#1f2328' : '#59636e'}" stroke-width="${i === 4 ? 2 : 1}"/>`,
  );
  return `<svg class="dist" width="${W}" height="32" viewBox="0 0 ${W} 32" role="img"><title>${esc(`min ${short(c.min)} · p10 ${short(q[0])} · median ${short(q[4])} · p90 ${short(q[8])} · max ${short(c.max)}`)}</title>
<line x1="${x(c.min)}" x2="${x(c.max)}" y1="16" y2="16" stroke="#8c959f"/>
<rect x="${x(q[0])}" y="8" width="${Math.max(1, x(q[8]) - x(q[0]))}" height="16" fill="#ddf4ff" stroke="#0969da"/>
${ticks.join('')}</svg>
<div class="range"><span>${esc(short(c.min))}</span><span>median ${esc(short(q[4]))}</span><span>${esc(short(c.max))}</span></div>`;
}

/** Horizontal bars of the most frequent values. */
function valueBars(c: ColumnProfile): string {
  const top = c.top ?? [];
  const most = Math.max(1, ...top.map((t) => t.count));
  const rows = top
    .slice(0, TOP_SHOWN)
    .map(
      (t) =>
        `<div class="bar" data-value="${esc(t.value)}"><span class="label">${esc(t.value)}</span><span class="track"><i style="width:${Math.round((t.count / most) * 100)}%"></i></span><span class="n">${t.count}</span></div>`,
    );
  const more = top.length > TOP_SHOWN ? `<div class="muted">and ${top.length - TOP_SHOWN} more values</div>` : '';
  return `<div class="bars">${rows.join('')}${more}</div>`;
}

/** A small line over the drops of the period. */
function sparkline(values: readonly (number | null)[], label: string, format: (n: number) => string): string {
  const points = values.map((v, i) => ({ v, i })).filter((p): p is { v: number; i: number } => p.v !== null);
  if (points.length < 2) return '';
  const lo = Math.min(...points.map((p) => p.v));
  const hi = Math.max(...points.map((p) => p.v));
  const n = values.length - 1;
  const xy = points.map((p) => `${(6 + (p.i / n) * (W - 12)).toFixed(1)},${(hi === lo ? 12 : 20 - ((p.v - lo) / (hi - lo)) * 16).toFixed(1)}`);
  const last = points[points.length - 1].v;
  return `<div class="spark"><span class="muted">${esc(label)}</span><svg width="${W}" height="24" viewBox="0 0 ${W} 24" role="img"><title>${esc(`${label}: ${points.map((p) => format(p.v)).join(' → ')}`)}</title><polyline fill="none" stroke="#0969da" stroke-width="1.5" points="${xy.join(' ')}"/></svg><span>${esc(format(last))}</span></div>`;
}

function card(c: ColumnProfile, history: readonly ProfilePoint[], kindOfTime: boolean): string {
  const facts = [`${esc(c.kind)}`, `~${c.distinct} distinct`, `${pct(c.nullFraction)} NULL`];
  if (c.length) facts.push(`length ${c.length.min}–${c.length.max}`);
  if (c.kind === 'number' && typeof c.mean === 'number') facts.push(`mean ${short(c.mean)}`);
  const body = c.top ? valueBars(c) : c.kind === 'number' || c.kind === 'time' ? distribution(c) : '';
  const nulls = history.map((h) => h.columns[c.name]?.nullFraction ?? null);
  const medians = history.map((h) => h.columns[c.name]?.median ?? null);
  const trend = [
    sparkline(nulls, 'NULL', pct),
    c.kind === 'number' || c.kind === 'time' ? sparkline(medians, 'median', (v) => short(kindOfTime ? new Date(v).toISOString() : v)) : '',
  ].join('');
  return `<div class="col-card" data-column="${esc(c.name)}"><div class="col-head"><code>${esc(c.name)}</code> <span class="muted">${facts.join(' · ')}</span></div>${nullBar(c)}${body}${trend}</div>`;
}

function driftTable(history: readonly ProfilePoint[]): string {
  const names = [...new Set(history.flatMap((h) => h.drift.map((d) => d.name)))];
  if (!names.length) return '<p class="muted">No drift check is declared.</p>';
  const cell = (d: ProfilePoint['drift'][number] | undefined) => {
    if (!d) return '<td class="muted">–</td>';
    const o = (d.observed ?? {}) as { psi?: number; ksDistance?: number; nullFractionChange?: number; newCategories?: string[]; vanishedCategories?: string[] };
    const parts = [
      o.psi !== undefined ? `PSI ${o.psi}` : '',
      o.nullFractionChange ? `NULL ${o.nullFractionChange > 0 ? '+' : ''}${o.nullFractionChange}` : '',
      o.newCategories?.length ? `+${o.newCategories.length} values` : '',
      o.vanishedCategories?.length ? `−${o.vanishedCategories.length} values` : '',
    ].filter(Boolean);
    return `<td class="o-${esc(d.outcome)}" title="${esc(d.message)}">${parts.length ? esc(parts.join(', ')) : d.observed === null ? '<span class="muted">first</span>' : 'steady'}</td>`;
  };
  return `<table class="drift"><thead><tr><th>Slot</th><th>Rows</th>${names.map((n) => `<th>${esc(n)}</th>`).join('')}</tr></thead><tbody>
${history
  .map(
    (h) =>
      `<tr data-slot="${esc(h.slot)}"><td><code>${esc(h.slot)}</code>${h.partner ? ` <span class="muted">${esc(h.partner)}</span>` : ''}</td><td>${h.rows}</td>${names.map((n) => cell(h.drift.find((d) => d.name === n))).join('')}</tr>`,
  )
  .join('\n')}
</tbody></table>`;
}

function previewTable(report: FeedProfileReport): string {
  const p = report.preview;
  if (!p) return `<p class="muted">${esc(report.previewNote ?? 'No preview.')}</p>`;
  const redacted = p.redacted.length ? ` Redacted (<code>pii: true</code>): ${p.redacted.map((c) => `<code>${esc(c)}</code>`).join(', ')}.` : '';
  return `<p class="sub">First ${p.rows.length} rows of the latest drop.${redacted}</p>
<div class="scroll"><table class="preview"><thead><tr>${p.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>
${p.rows.map((r) => `<tr>${r.map((v, i) => `<td${p.redacted.includes(p.columns[i]) ? ' class="redacted"' : ''}>${v === null ? '<span class="muted">NULL</span>' : esc(v)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table></div>`;
}

const CSS = `<style>
.col-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:10px}.col-card{border:1px solid var(--line);border-radius:8px;padding:8px 10px;font-size:.85em}
.col-head{margin-bottom:4px}.nullbar{display:block;margin:4px 0}.range{display:flex;justify-content:space-between;width:${W}px;color:var(--soft);font-size:.9em}
.bar{display:flex;align-items:center;gap:6px}.bar .label{width:80px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.bar .track{flex:0 0 100px;height:8px;background:#eef1f4}.bar .track i{display:block;height:8px;background:#0969da}
.spark{display:flex;align-items:center;gap:6px}.spark .muted{width:44px}
table.drift td.o-pass{color:var(--met)}table.drift td.o-warn{color:var(--late);font-weight:600}table.drift td.o-fail,table.drift td.o-error{color:var(--missed);font-weight:700}
.scroll{overflow-x:auto}table.preview td{font-family:ui-monospace,monospace;font-size:.8em;white-space:nowrap}td.redacted{color:var(--soft);background:#f6f8fa}
</style>`;

/** The whole section, for the feed page. */
export function profileSection(report: FeedProfileReport | undefined): string {
  if (!report) return '';
  const latest = report.latest;
  const cards = latest
    ? `<p class="sub">Latest drop <code>${esc(latest.slot)}</code>${latest.partner ? ` (${esc(latest.partner)})` : ''}: ${latest.rows} rows; trends over ${report.history.length} drop${report.history.length === 1 ? '' : 's'} with a profile.</p>
<div class="col-cards">${latest.columns.map((c) => card(c, report.history, c.kind === 'time')).join('\n')}</div>`
    : '<p class="muted">No profiled drop in this period.</p>';
  return `${CSS}
<section id="profile">
<h2>Column profiles</h2>
${cards}
<h2>Drift over time</h2>
${driftTable(report.history)}
<h2>Sample of the latest drop</h2>
${previewTable(report)}
</section>`;
}
