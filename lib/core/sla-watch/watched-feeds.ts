import type { FeedDefinition } from '../feed/feed-definition';

/** What the SLA watch needs of each feed: its schedule, SLA, partners and calendar. */
export function watchedFeedsOf(feeds: readonly FeedDefinition[]) {
  return feeds.map((f) => ({
    name: f.spec.name,
    schedule: f.spec.schedule,
    start: f.spec.start,
    owner: f.spec.owner,
    sla: f.spec.sla,
    delivery: f.spec.delivery,
    partners: f.spec.partners,
    calendar: f.spec.calendar,
  }));
}
