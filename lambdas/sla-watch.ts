import { slaWatch } from '../lib/core/sla-watch/sla-watch';
import { watchedFeedsOf } from '../lib/core/sla-watch/watched-feeds';
import { stepHandler } from './handler-kit';
import { feedMetric, METRIC } from './observability';
import { runtime, LambdaDeps } from './runtime';

/** What the schedule may pass; every field is optional. */
export interface SlaWatchEvent {
  /** ISO-8601 "now" (default: the clock). */
  readonly at?: string;
  /** How far back slots are watched (ISO-8601 duration, default P2D). */
  readonly lookBack?: string;
}

/**
 * The SLA watch on a schedule: every slot the feeds' schedules say should exist in the look-back
 * window gets its state, and each change of state is told once (racing watches included: the
 * notices are claimed in the bucket with conditional writes). It does not depend on a run having
 * started, so a schedule that never fired still raises its MISSED alert.
 */
export function makeSlaWatchHandler(deps: () => Promise<Pick<LambdaDeps, 'store' | 'clock' | 'definitions' | 'prefix' | 'consumers' | 'operators'>>) {
  return stepHandler(
    'sla-watch',
    () => ({}),
    async (event: SlaWatchEvent | undefined) => {
      const d = await deps();
      const out = await slaWatch(
        { feeds: watchedFeedsOf(d.definitions), prefix: d.prefix, at: event?.at, lookBack: event?.lookBack },
        {
          store: d.store,
          clock: d.clock,
          notifiers: {
            consumers: (feed, partner) =>
              d.consumers(
                d.definitions.find((f) => f.spec.name === feed)!,
                partner,
              ),
            operators: d.operators,
          },
        },
      );
      // The SlaMissed alarm counts slots newly missed: each is told once, so each counts once.
      for (const notice of out.notices) if (notice.id.endsWith('.missed')) feedMetric(notice.feed, METRIC.slaMissed, 1);
      // The state of every slot stays in the bucket; the answer is the summary (well under any size limit).
      return { attention: out.attention, allDelivered: out.allDelivered, notices: out.notices.map((n) => ({ id: n.id, type: n.type })) };
    },
  );
}

export const handler = makeSlaWatchHandler(runtime);
