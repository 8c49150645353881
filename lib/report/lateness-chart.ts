import { humanDuration } from '../core/notices/event-text';
import type { ReportSlot } from './report-data';
import { esc } from './html';

const COLOURS: Record<string, string> = {
  MET: 'var(--met)',
  LATE: 'var(--late)',
  MISSED: 'var(--missed)',
  FAILED: 'var(--failed)',
  AT_RISK: 'var(--risk)',
  RUNNING: 'var(--open)',
  PENDING: 'var(--open)',
  NOT_EXPECTED: 'var(--none)',
};

/**
 * Lateness per slot as an inline SVG bar chart, oldest slot left. A LATE bar's height is its
 * lateness; MET sits on the baseline; a MISSED or FAILED slot is a full-height bar (it has no
 * lateness yet, and must stand out); NOT_EXPECTED is a grey stub.
 */
export function latenessChart(slots: readonly ReportSlot[], partner: string | null = null): string {
  // The left margin holds the longest axis label: its duration on one line ("12 d 23 h 59 min"), "late" below.
  const W = 800,
    H = 240,
    L = 110,
    R = 12,
    T = 14,
    B = 40;
  const plotW = W - L - R,
    plotH = H - T - B;
  const maxLate = Math.max(60, ...slots.filter((s) => s.state === 'LATE').map((s) => s.latenessSeconds ?? 0));
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Lateness per slot${partner ? ` for ${esc(partner)}` : ''}"${partner ? ` data-partner="${esc(partner)}"` : ''} xmlns="http://www.w3.org/2000/svg">`,
  );
  parts.push(`<line x1="${L}" y1="${T + plotH}" x2="${W - R}" y2="${T + plotH}" stroke="#8c959f"/>`);
  parts.push(`<line x1="${L}" y1="${T}" x2="${L}" y2="${T + plotH}" stroke="#8c959f"/>`);
  parts.push(`<text x="${L - 6}" y="${T + plotH}" text-anchor="end" font-size="11" fill="#59636e">on time</text>`);
  const topY = T + plotH * 0.15;
  parts.push(
    `<text class="max-late" x="${L - 6}" y="${(topY - 2).toFixed(1)}" text-anchor="end" font-size="11" fill="#59636e">${esc(humanDuration(maxLate))}</text>`,
    `<text x="${L - 6}" y="${(topY + 11).toFixed(1)}" text-anchor="end" font-size="11" fill="#59636e">late</text>`,
  );
  parts.push(
    `<line x1="${L}" y1="${(T + plotH * 0.15).toFixed(1)}" x2="${W - R}" y2="${(T + plotH * 0.15).toFixed(1)}" stroke="#d1d9e0" stroke-dasharray="3 3"/>`,
  );
  parts.push(`<text x="${L - 6}" y="${T + 10}" text-anchor="end" font-size="11" fill="#59636e">missed</text>`);
  if (slots.length === 0) {
    parts.push(`<text x="${L + plotW / 2}" y="${T + plotH / 2}" text-anchor="middle" fill="#59636e">no slots in this period</text>`);
  }
  const step = plotW / Math.max(slots.length, 1);
  const barW = Math.max(1, Math.min(28, step * 0.7));
  slots.forEach((s, i) => {
    const x = L + i * step + (step - barW) / 2;
    let h: number;
    // LATE bars stop at 85% of the height, so a MISSED or FAILED bar always stands above them.
    if (s.state === 'LATE') h = Math.max(3, ((s.latenessSeconds ?? 0) / maxLate) * plotH * 0.85);
    else if (s.state === 'MISSED' || s.state === 'FAILED') h = plotH;
    else if (s.state === 'MET') h = 3;
    else h = 8;
    const lateness = s.state === 'LATE' ? `, ${humanDuration(s.latenessSeconds ?? 0)} late` : '';
    const label = `${s.slot}${s.partner ? ` (${s.partner})` : ''}: ${s.state}${lateness}. ${s.detail}`;
    const fill = COLOURS[s.state] ?? 'var(--none)';
    const outline = s.state === 'AT_RISK' || s.state === 'PENDING' || s.state === 'RUNNING';
    parts.push(
      `<rect class="bar state-${esc(s.state)}" data-state="${esc(s.state)}" data-slot="${esc(s.slot)}" x="${x.toFixed(1)}" y="${(T + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" ` +
        (outline ? `fill="none" stroke="${fill}" stroke-width="1.5"` : `fill="${fill}"`) +
        `><title>${esc(label)}</title></rect>`,
    );
    // A mark as well as a colour, so MISSED and FAILED differ for every eye and in print.
    const mark = s.state === 'MISSED' ? '✕' : s.state === 'FAILED' ? '!' : '';
    if (mark && barW >= 8)
      parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${T + 12}" text-anchor="middle" font-size="11" font-weight="700" fill="#fff">${mark}</text>`);
  });
  if (slots.length > 0) {
    const day = (s: ReportSlot) => s.scheduledFor.slice(0, 10);
    parts.push(`<text x="${L}" y="${H - 14}" font-size="11" fill="#59636e">${esc(day(slots[0]))}</text>`);
    parts.push(`<text x="${W - R}" y="${H - 14}" text-anchor="end" font-size="11" fill="#59636e">${esc(day(slots[slots.length - 1]))}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
