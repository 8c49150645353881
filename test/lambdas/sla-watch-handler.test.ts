import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as observability from '../../lambdas/observability';
import { makeSlaWatchHandler } from '../../lambdas/sla-watch';
import { lambdaProject, LambdaProject } from './lambda-project';

const event = JSON.parse(readFileSync(join(__dirname, '../fixtures/events/scheduler/sla-watch.json'), 'utf8'));

describe('the SLA watch handler, invoked by its schedule', () => {
  let p: LambdaProject;
  let log: jest.SpyInstance;
  beforeEach(async () => {
    log = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    // Two days after the first slots, nothing delivered: every due slot is missed.
    p = await lambdaProject({ now: '2024-01-16T12:00:00Z' });
  });
  afterEach(async () => {
    log.mockRestore();
    await p.close();
  });

  it('tells partners and operators of each missed slot once, however often it runs', async () => {
    const handler = makeSlaWatchHandler(async () => p.deps);
    const metric = jest.spyOn(observability, 'feedMetric').mockImplementation(() => undefined);
    const first = await handler(event);
    expect(first.attention).toBe(true);
    // Each newly missed slot counts once in the metric the SlaMissed alarm watches.
    const missed = first.notices.filter((n) => n.id.endsWith('.missed')).length;
    expect(missed).toBeGreaterThan(0);
    expect(metric.mock.calls.filter(([, name]) => name === 'SlaMissed')).toHaveLength(missed);
    expect(first.notices.length).toBeGreaterThan(0);
    expect(first.notices.every((n) => n.type === 'data.delay')).toBe(true);
    const told = p.consumers.events.length + p.operators.events.length;
    expect(told).toBeGreaterThan(0);
    const again = await handler(event);
    expect(again.notices).toEqual([]);
    expect(metric.mock.calls.filter(([, name]) => name === 'SlaMissed')).toHaveLength(missed);
    metric.mockRestore();
    expect(p.consumers.events.length + p.operators.events.length).toBe(told);
    expect((await p.store.list('drops/_sla/')[Symbol.asyncIterator]().next()).done).toBe(false);
  });
});
