import { CreateEventBusCommand } from '@aws-sdk/client-eventbridge';
import { EventBridgeNotifier } from '../lib/adapters/eventbridge/eventbridge-notifier';
import { SnsNotifier } from '../lib/adapters/sns/sns-notifier';
import type { DropEvent } from '../lib/core/ports/notifier';
import { motoClientConfig, uniqueName } from './helpers/moto';
import { createQueue, createTopic, drain, eventBridge, Queue, ruleToQueue, sns, subscribeQueue } from './helpers/queues';

const link = (name: string) => ({ url: `https://drops.example/${name}?X-Amz-Signature=abc`, expiresAt: '2024-01-16T07:00:00.000Z' });

function event(type: DropEvent['type'], partner: string | null, extra: Partial<DropEvent> = {}): DropEvent {
  return {
    type,
    id: `${type}-${partner ?? 'all'}`,
    feed: 'statements',
    partner,
    runId: `run-${partner}`,
    revision: 1,
    slot: '20240115T060000Z',
    occurredAt: '2024-01-15T07:00:00.000Z',
    ...(type === 'drop.delivered'
      ? {
          manifest: { key: `statements/partner=${partner}/manifest.json`, link: link('manifest.json') },
          files: [{ path: 'part-00000.csv', format: 'csv', rows: 3, bytes: 30, sha256: 'ab'.repeat(32), link: link('part-00000.csv') }],
          rowCount: 3,
        }
      : {}),
    ...(type === 'data.delay'
      ? {
          delay: {
            phase: 'missed',
            scheduledFor: '2024-01-15T06:00:00.000Z',
            expectedBy: '2024-01-15T07:00:00.000Z',
            missedAt: '2024-01-15T07:00:00.000Z',
            state: 'MISSED',
            detail: 'no run recorded',
            owner: null,
            eta: null,
          },
        }
      : {}),
    ...extra,
  } as DropEvent;
}

describe('notices over moto: SNS with per-partner filter policies into SQS, EventBridge rules into SQS', () => {
  let topic: string;
  let acme: Queue;
  let globex: Queue;
  beforeAll(async () => {
    topic = await createTopic(uniqueName('feed-statements'));
    [acme, globex] = await Promise.all([createQueue('acme'), createQueue('globex')]);
    // What docs/partners.md tells a partner to subscribe with.
    await subscribeQueue(topic, acme, { partner: ['acme'] });
    await subscribeQueue(topic, globex, { partner: ['globex'], event: ['drop.delivered'] });
  });

  it("a partner's queue gets its own drop.delivered, with the event JSON, and nothing of another partner's", async () => {
    const notifier = new SnsNotifier({ topicArn: topic, client: sns() });
    for (const e of [event('drop.delivered', 'acme'), event('drop.delivered', 'globex'), event('data.delay', 'globex')]) {
      const outcome = await notifier.notify(e);
      expect([outcome.status, outcome.detail]).toEqual(['sent', expect.stringMatching(/^message /)]);
    }
    const [forAcme, forGlobex] = [await drain<DropEvent>(acme), await drain<DropEvent>(globex)];
    expect(forAcme.map((e) => [e.type, e.partner])).toEqual([['drop.delivered', 'acme']]);
    expect(forAcme[0]).toEqual(JSON.parse(JSON.stringify(event('drop.delivered', 'acme'))));
    // globex filters on the event type too: its delay notice is not delivered to this queue.
    expect(forGlobex.map((e) => [e.type, e.partner])).toEqual([['drop.delivered', 'globex']]);
  });

  it('an EventBridge rule on source dropkit gets every event, with its detail-type', async () => {
    const bus = uniqueName('bus');
    await eventBridge().send(new CreateEventBusCommand({ Name: bus }));
    const everything = await createQueue('all-events');
    await ruleToQueue({ source: ['dropkit'] }, everything, bus);
    const notifier = new EventBridgeNotifier({ eventBusName: bus, clientConfig: motoClientConfig() });
    const types: DropEvent['type'][] = [
      'drop.delivered',
      'run.failed',
      'data.delay',
      'data.delay.recovered',
      'data.update',
      'schema.change',
      'validation.failed',
    ];
    for (const t of types) expect(await notifier.notify(event(t, 'acme'))).toMatchObject({ status: 'sent' });
    const got = await drain<{ source: string; 'detail-type': string; detail: DropEvent }>(everything);
    // A standard queue promises no order.
    got.sort((a, b) => types.indexOf(a.detail.type) - types.indexOf(b.detail.type));
    expect(got.map((e) => [e.source, e.detail.type])).toEqual(types.map((t) => ['dropkit', t]));
    expect(got.map((e) => e['detail-type'])).toEqual([
      'Drop Delivered',
      'Run Failed',
      'Data Delay',
      'Data Delay Recovered',
      'Data Update',
      'Schema Change',
      'Validation Failed',
    ]);
  });
});
