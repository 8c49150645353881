import { publishStep } from '../lib/core/steps/publish';
import { deliveredRefOf } from '../lib/core/graph/node-tasks';
import { requireField, stepHandler } from './handler-kit';
import { feedMetric, METRIC, MetricUnit } from './observability';
import { runtime, LambdaDeps } from './runtime';
import { PublishEvent, stateKeys } from './step-events';

/**
 * Publishes the drop: the files rendered per format (in the state machine's format order) join the
 * run state, then data files move and the manifest is written (the commit point). Returns the
 * reference the notify step takes, not the whole manifest (state stays small).
 */
export function makePublishHandler(deps: () => Promise<Pick<LambdaDeps, 'store' | 'clock' | 'feeds' | 'lease' | 'engine'>>) {
  return stepHandler('publish', stateKeys, async (event: PublishEvent) => {
    const state = requireField<PublishEvent['state']>(event, 'state');
    const rendered = requireField<PublishEvent['rendered']>(event, 'rendered');
    const d = await deps();
    const files = rendered.flat();
    const published = await publishStep(
      { ...state, files, timings: { ...state.timings, renderedAt: state.timings.renderedAt ?? d.clock.now().toISOString() } },
      d,
    );
    const { plan } = state;
    const m = published.manifest;
    const feed = plan.feed;
    feedMetric(feed, METRIC.delivered, 1);
    feedMetric(feed, METRIC.rows, m.rowCount);
    feedMetric(
      feed,
      METRIC.bytes,
      m.files.reduce((n, f) => n + f.bytes, 0),
      MetricUnit.Bytes,
    );
    feedMetric(feed, METRIC.deliveryLatency, (Date.parse(m.sla.deliveredAt) - Date.parse(plan.slot.scheduledFor)) / 1000, MetricUnit.Seconds);
    feedMetric(feed, m.sla.status === 'MET' ? METRIC.slaMet : METRIC.slaLate, 1);
    const ref = deliveredRefOf(plan, published.manifestKey);
    return { status: published.status, ref, rowCount: m.rowCount, files: m.files.length, sla: m.sla.status, pending: published.pending };
  });
}

export const handler = makePublishHandler(runtime);
