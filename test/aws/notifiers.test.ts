import 'aws-sdk-client-mock-jest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { detailTypeFor, EventBridgeNotifier } from '../../lib/adapters/eventbridge/eventbridge-notifier';
import { plainNoticeText, SnsNotifier, snsSubject } from '../../lib/adapters/sns/sns-notifier';
import type { DropEvent } from '../../lib/core/ports/notifier';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:dropkit-drops';
const link = (name: string) => ({ url: `https://drops.s3.eu-west-1.amazonaws.com/${name}?X-Amz-Signature=abc`, expiresAt: '2024-01-16T07:00:00.000Z' });

function delivered(fileCount = 2, partner: string | null = 'acme'): DropEvent {
  return {
    type: 'drop.delivered',
    id: 'run-1',
    feed: 'daily_orders',
    partner,
    runId: 'run-1',
    revision: 1,
    slot: '20240115T060000Z',
    occurredAt: '2024-01-15T07:00:00.000Z',
    manifest: { key: 'daily_orders/slot=20240115T060000Z/run=run-1/manifest.json', link: link('manifest.json') },
    files: Array.from({ length: fileCount }, (_, i) => ({
      path: `part-${String(i).padStart(5, '0')}.csv`,
      format: 'csv',
      rows: 10,
      bytes: 100,
      sha256: 'ab'.repeat(32),
      link: link(`part-${i}.csv`),
    })),
    sla: { expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T07:00:00.000Z', status: 'MET' },
    rowCount: 10 * fileCount,
  };
}

const failed: DropEvent = {
  type: 'run.failed',
  id: 'run-2.failed',
  feed: 'daily_orders',
  partner: null,
  runId: 'run-2',
  revision: 1,
  slot: '20240115T060000Z',
  occurredAt: '2024-01-15T07:00:00.000Z',
  error: { step: 'validate', name: 'ValidationFailedError', message: 'row_count 0 < 1' },
};

function client() {
  return { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };
}

describe('SnsNotifier', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => sns.reset());
  afterAll(() => sns.restore());

  it('publishes the event JSON for machines and a readable text for email, with filter attributes', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1', $metadata: { attempts: 1 } });
    const outcome = await new SnsNotifier({ topicArn: TOPIC, clientConfig: client() }).notify(delivered());
    expect(outcome).toEqual({ target: `sns ${TOPIC}`, status: 'sent', attempts: 1, detail: 'message m-1' });
    const text = plainNoticeText(delivered());
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    // The whole input, not a subset: nothing else may be sent.
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input).toEqual({
      TopicArn: TOPIC,
      Subject: '[dropkit] daily_orders for acme: slot 20240115T060000Z delivered',
      MessageStructure: 'json',
      Message: JSON.stringify({ default: JSON.stringify(delivered()), email: text.text }),
      MessageAttributes: {
        feed: { DataType: 'String', StringValue: 'daily_orders' },
        partner: { DataType: 'String', StringValue: 'acme' },
        event: { DataType: 'String', StringValue: 'drop.delivered' },
      },
    });
    expect(text.text).toContain(link('part-1.csv').url);
    expect(text.text).toContain('Links expire at 2024-01-16T07:00:00.000Z.');
  });

  it('leaves the partner attribute out when the feed has none, since SNS refuses empty values', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    await new SnsNotifier({ topicArn: TOPIC, clientConfig: client() }).notify(failed);
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(Object.keys(input.MessageAttributes!).sort()).toEqual(['event', 'feed']);
    expect(input.Subject).toBe('[dropkit] daily_orders: run for slot 20240115T060000Z failed at validate');
    expect(JSON.parse(input.Message!).email).toContain('ValidationFailedError: row_count 0 < 1');
  });

  it('uses the event id as deduplication id on a FIFO topic', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-3' });
    await new SnsNotifier({ topicArn: `${TOPIC}.fifo`, clientConfig: client() }).notify(delivered());
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { MessageDeduplicationId: 'run-1', MessageGroupId: 'daily_orders/acme' });
  });

  it('takes subject and text from the format option, made a valid SNS subject', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-4' });
    const format = (e: DropEvent) => ({ subject: `Lieferung ${e.feed}\nfür Müller ${'x'.repeat(120)}`, text: `custom ${e.id}` });
    await new SnsNotifier({ topicArn: TOPIC, clientConfig: client(), format }).notify(delivered());
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.Subject).toHaveLength(100);
    expect(input.Subject).toMatch(/^Lieferung daily_orders fur Muller x+\.\.\.$/);
    expect(JSON.parse(input.Message!).email).toBe('custom run-1');
  });

  it('falls back to the manifest link alone when the file list would pass the size limit', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-5' });
    const big = delivered(3000); // ~300 bytes a file twice over (JSON and text): well over 256 KB
    const outcome = await new SnsNotifier({ topicArn: TOPIC, clientConfig: client() }).notify(big);
    expect(outcome).toMatchObject({ status: 'sent', detail: "message m-5; the 3000 file links were left out to fit SNS's size limit" });
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(Buffer.byteLength(input.Message!)).toBeLessThanOrEqual(262_144);
    const message = JSON.parse(input.Message!);
    const body = JSON.parse(message.default);
    expect(body.files).toBeUndefined();
    expect(body.filesOmitted).toBe(3000);
    expect(body.manifest.link.url).toBe(link('manifest.json').url);
    expect(message.email).toContain('3000 files: too many to list here');
  });

  it('reports SNS being down as a failed outcome and throws nothing', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('Service Unavailable'), { name: 'InternalErrorException', $metadata: { attempts: 3 } }));
    const outcome = await new SnsNotifier({ topicArn: TOPIC, clientConfig: client() }).notify(delivered());
    expect(outcome).toEqual({ target: `sns ${TOPIC}`, status: 'failed', attempts: 3, detail: 'InternalErrorException: Service Unavailable' });
  });

  it('reports a format function that throws as a failed outcome', async () => {
    const format = () => {
      throw new Error('template broke');
    };
    const outcome = await new SnsNotifier({ topicArn: TOPIC, clientConfig: client(), format }).notify(delivered());
    expect(outcome).toMatchObject({ status: 'failed', detail: 'Error: template broke' });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it.each([
    ['a\r\nb\tc', 'a b c'],
    ['Zürich — déjà', 'Zurich ? deja'],
    ['', 'dropkit notice'],
    ['日本', '??'],
  ])('makes %j the subject %j', (raw, subject) => {
    expect(snsSubject(raw)).toBe(subject);
  });
});

describe('EventBridgeNotifier', () => {
  const eb = mockClient(EventBridgeClient);
  beforeEach(() => eb.reset());
  afterAll(() => eb.restore());

  it('puts the event with source dropkit, its detail type and the event JSON as detail', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const outcome = await new EventBridgeNotifier({ eventBusName: 'drops', clientConfig: client() }).notify(delivered());
    expect(outcome).toEqual({ target: 'eventbridge drops', status: 'sent', attempts: 1, detail: 'event e-1' });
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(eb.commandCalls(PutEventsCommand)[0]!.args[0].input).toEqual({
      Entries: [
        {
          Source: 'dropkit',
          DetailType: 'Drop Delivered',
          Detail: JSON.stringify(delivered()),
          Time: new Date('2024-01-15T07:00:00.000Z'),
          EventBusName: 'drops',
        },
      ],
    });
  });

  it('names a detail type for each event type', () => {
    expect(['drop.delivered', 'run.failed', 'drop.late', 'drop.superseded', 'slot.missed'].map(detailTypeFor)).toEqual([
      'Drop Delivered',
      'Run Failed',
      'Drop Late',
      'Drop Superseded',
      'Slot Missed',
    ]);
  });

  it('tries a throttled entry again and reports the attempts', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
    const waits: number[] = [];
    const outcome = await new EventBridgeNotifier({ clientConfig: client(), sleep: async (ms) => void waits.push(ms) }).notify(failed);
    expect(outcome).toEqual({ target: 'eventbridge default', status: 'sent', attempts: 2, detail: 'event e-2' });
    expect(waits).toEqual([200]);
    expect(eb.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]).toMatchObject({ DetailType: 'Run Failed' });
    expect(eb.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.EventBusName).toBeUndefined();
  });

  it('reports an entry EventBridge refused (FailedEntryCount) as failed without retrying it', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });
    const outcome = await new EventBridgeNotifier({ clientConfig: client(), sleep: async () => undefined }).notify(delivered());
    expect(outcome).toEqual({ target: 'eventbridge default', status: 'failed', attempts: 1, detail: 'AccessDeniedException: not authorized' });
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  it('gives up on a throttled entry after the last attempt', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] });
    const outcome = await new EventBridgeNotifier({ clientConfig: client(), maxAttempts: 3, sleep: async () => undefined }).notify(delivered());
    expect(outcome).toMatchObject({ status: 'failed', attempts: 3, detail: 'ThrottlingException: Rate exceeded' });
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 3);
  });

  it('reports EventBridge being down as a failed outcome and throws nothing', async () => {
    eb.on(PutEventsCommand).rejects(Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' }));
    const outcome = await new EventBridgeNotifier({ clientConfig: client() }).notify(delivered());
    expect(outcome).toEqual({ target: 'eventbridge default', status: 'failed', attempts: 1, detail: 'TimeoutError: connect ECONNREFUSED' });
  });

  it('sends the manifest link alone when the file list passes 256 KB', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-3' }] });
    const outcome = await new EventBridgeNotifier({ clientConfig: client() }).notify(delivered(3000));
    expect(outcome.detail).toBe('event e-3; the 3000 file links were left out to fit the size limit');
    const detail = JSON.parse(eb.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.Detail!);
    expect(detail).toMatchObject({ id: 'run-1', filesOmitted: 3000, manifest: { key: 'daily_orders/slot=20240115T060000Z/run=run-1/manifest.json' } });
    expect(detail.files).toBeUndefined();
  });
});
