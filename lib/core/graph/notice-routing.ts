import type { FeedDefinition } from '../feed/feed-definition';
import type { NotifyTarget } from '../feed/feed-schema';
import type { Notifier } from '../ports/notifier';

/** How an edge (the CLI, a Lambda) turns targets into notifiers. */
export interface NoticeChannels {
  /** Every notice of a feed also goes here, whatever its targets (AWS: the feed topic and the event bus; locally: the outbox). */
  readonly always: (feed: FeedDefinition) => readonly Notifier[];
  /** The notifier of one target, or undefined when this edge serves it through `always` or not at all. */
  readonly target: (target: NotifyTarget, feed: FeedDefinition) => Notifier | undefined;
}

/**
 * The notify targets of one run: the feed's, then the partner's — for a shared drop (partner
 * null), every partner's, since each of them receives it. A target named twice is told once.
 */
export function consumerTargets(feed: FeedDefinition, partner: string | null): NotifyTarget[] {
  const partners = feed.spec.partners.filter((p) => partner === null || p.id === partner);
  const seen = new Set<string>();
  const out: NotifyTarget[] = [];
  for (const t of [...feed.spec.notify, ...partners.flatMap((p) => p.notify ?? [])]) {
    const key = JSON.stringify(t);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(t);
  }
  return out;
}

/** Who hears of a drop of this feed (and partner): one routing for the CLI and the Lambdas. */
export function routeConsumers(feed: FeedDefinition, partner: string | null, channels: NoticeChannels): Notifier[] {
  const out = [...channels.always(feed)];
  for (const t of consumerTargets(feed, partner)) {
    const n = channels.target(t, feed);
    if (n && !out.includes(n)) out.push(n);
  }
  return out;
}
