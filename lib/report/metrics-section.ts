import type { MetricCard } from '../semantic/metric-usage';
import { esc } from './html';

/** A metric feed's page: each metric's definition and every feed that serves it. */
export function metricsSection(metrics: readonly MetricCard[] | undefined): string {
  if (!metrics?.length) return '';
  return `<h2>Metrics</h2>
<p class="sub">Defined once in the semantic layer; a change to a definition changes every feed listed beside it.</p>
<table class="metrics"><thead><tr><th>Metric</th><th>Definition</th><th>Served by</th></tr></thead><tbody>
${metrics
  .map(
    (m) =>
      `<tr><td><code>${esc(m.name)}</code>${m.description ? `<br>${esc(m.description)}` : ''}</td><td><code>${esc(m.definition)}</code></td><td>${m.servedBy.map((f) => `<a href="${esc(f)}.html">${esc(f)}</a>`).join(', ')}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`;
}
