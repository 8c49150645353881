import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE as SERVICE } from '../lib/core/deploy-contract';

export { METRIC, METRICS_NAMESPACE };

/** One of each per container: Powertools keeps their state between invocations. */
export const logger = new Logger({ serviceName: SERVICE });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE });
/** Off outside Lambda (tests, local runs): no X-Ray daemon there. */
export const tracer = new Tracer({
  serviceName: SERVICE,
  enabled: Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME) && process.env.POWERTOOLS_TRACE_ENABLED !== 'false',
});

/**
 * Emits a metric twice: per feed (the dashboard's per-feed graphs) and for the whole project (the
 * alarms, which cannot search over dimensions). Single-metric sets are flushed at once.
 */
export function feedMetric(feed: string, name: string, value: number, unit: (typeof MetricUnit)[keyof typeof MetricUnit] = MetricUnit.Count): void {
  const perFeed = metrics.singleMetric();
  perFeed.addDimension('feed', feed);
  perFeed.addMetric(name, unit, value);
  metrics.singleMetric().addMetric(name, unit, value);
}

export { MetricUnit };
