import type { Metric, SemanticLayer } from './semantic-layer';

/** A feed as far as metric usage goes: its name and the metrics its selection names. */
export interface MetricConsumer {
  readonly feed: string;
  readonly metrics: readonly string[];
}

/** The metrics a metric stands on, itself included (a ratio's numerator and denominator, a derived metric's inputs). */
export function metricClosure(layer: SemanticLayer, name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const m: Metric | undefined = layer.metrics.get(name);
  for (const ref of [m?.numerator, m?.denominator, ...(m?.inputs ?? [])]) if (ref) metricClosure(layer, ref.name, seen);
  return seen;
}

/** Per metric, the feeds that serve it, directly or through a metric built on it. */
export function metricUsage(layer: SemanticLayer, consumers: readonly MetricConsumer[]): Map<string, { feed: string; via: string }[]> {
  const usage = new Map<string, { feed: string; via: string }[]>([...layer.metrics.keys()].sort().map((k) => [k, []]));
  for (const c of consumers) {
    for (const selected of c.metrics) {
      for (const name of metricClosure(layer, selected)) {
        const list = usage.get(name);
        if (list && !list.some((u) => u.feed === c.feed)) list.push({ feed: c.feed, via: selected });
      }
    }
  }
  return usage;
}

/** Metrics no feed delivers: candidates to retire, or feeds still to write. */
export function unusedMetrics(layer: SemanticLayer, consumers: readonly MetricConsumer[]): string[] {
  return [...metricUsage(layer, consumers)].filter(([, feeds]) => feeds.length === 0).map(([name]) => name);
}
