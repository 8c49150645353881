import { describeMetric } from './compile';
import type { Metric, SemanticLayer } from './semantic-layer';

/** A feed as far as metric usage goes: its name and the metrics its selection names. */
export interface MetricConsumer {
  readonly feed: string;
  readonly metrics: readonly string[];
}

/** The feeds that select metrics, as consumers of the semantic layer. */
export function metricConsumers(
  feeds: readonly { readonly spec: { readonly name: string }; readonly semantics?: { readonly metrics: readonly string[] } }[],
): MetricConsumer[] {
  return feeds.filter((f) => f.semantics).map((f) => ({ feed: f.spec.name, metrics: f.semantics!.metrics }));
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

/** A metric as a feed's page in the report shows it: its definition and every feed that serves it. */
export interface MetricCard {
  readonly name: string;
  readonly description?: string;
  readonly definition: string;
  readonly servedBy: readonly string[];
}

/** Per feed that selects metrics, a card for each metric it selects. */
export function metricCards(layer: SemanticLayer, consumers: readonly MetricConsumer[]): Record<string, MetricCard[]> {
  const usage = metricUsage(layer, consumers);
  const cards: Record<string, MetricCard[]> = {};
  for (const c of consumers) {
    cards[c.feed] = c.metrics.map((name) => {
      const m = layer.metrics.get(name)!;
      return {
        name,
        ...(m.description ? { description: m.description } : {}),
        definition: describeMetric(m, layer),
        servedBy: (usage.get(name) ?? []).map((u) => u.feed),
      };
    });
  }
  return cards;
}
