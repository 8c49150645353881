import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { formatDropEvent } from '../../lib/adapters/local/console-notifier';
import { SnsNotifier } from '../../lib/adapters/sns/sns-notifier';
import { eventText, NOTICE_TEXT } from '../../lib/core/notices/event-text';
import type { DropEventOf, DropEventType } from '../../lib/core/ports/notifier';

const base = {
  id: 'k',
  feed: 'daily_orders',
  partner: null,
  runId: '20240115T060000Z-r1-abc',
  revision: 1,
  slot: '20240115T060000Z',
  occurredAt: '2024-01-15T09:00:00.000Z',
};
const link = (url: string) => ({ url, expiresAt: '2024-01-15T10:00:00.000Z' });
const sla = { expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T07:05:00.000Z', status: 'MET' as const };

/** One notice of each of the seven types, as the steps and the SLA watch send them. */
const EVENTS: { [T in DropEventType]: DropEventOf<T> } = {
  'drop.delivered': {
    ...base,
    type: 'drop.delivered',
    rowCount: 3,
    manifest: { key: 'm', link: link('https://x/manifest.json') },
    files: [{ path: 'part-00000.csv', format: 'csv', rows: 3, bytes: 10, sha256: 'ab', link: link('https://x/part-00000.csv') }],
    sla,
  },
  'run.failed': { ...base, type: 'run.failed', error: { step: 'stage', name: 'QueryFailedError', message: 'no table orders' } },
  'data.delay': {
    ...base,
    type: 'data.delay',
    delay: {
      phase: 'missed',
      scheduledFor: '2024-01-15T06:00:00.000Z',
      expectedBy: '2024-01-15T08:00:00.000Z',
      missedAt: '2024-01-15T08:30:00.000Z',
      state: 'MISSED',
      detail: 'no run is recorded',
      owner: 'data-platform@shop.example',
      eta: null,
    },
  },
  'data.delay.recovered': {
    ...base,
    type: 'data.delay.recovered',
    manifest: { key: 'm', link: link('https://x/manifest.json') },
    recovery: { expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T09:05:00.000Z', latenessSeconds: 3900, status: 'LATE' },
  },
  'data.update': { ...base, type: 'data.update', revision: 2, rowCount: 4, update: { supersedes: { runId: 'r1', revision: 1 }, previousRowCount: 3 } },
  'schema.change': {
    ...base,
    type: 'schema.change',
    schemaChange: { added: [], removed: [], retyped: [{ name: 'amount', from: 'DECIMAL(10,2)', to: 'DOUBLE' }], reordered: false },
  },
  'validation.failed': {
    ...base,
    type: 'validation.failed',
    validation: { status: 'fail', failed: [{ name: 'unique(id)', type: 'unique', severity: 'error', outcome: 'fail', message: '2 duplicate rows' }] },
  },
  'approval.requested': {
    ...base,
    type: 'approval.requested',
    audience: 'operators',
    rowCount: 3,
    approval: {
      approvers: ['owner@shop.example'],
      reasons: ['first: no earlier drop of daily_orders'],
      deadline: '2024-01-15T17:00:00.000Z',
      schema: [{ name: 'id', type: 'INTEGER' }],
    },
  },
};

const SUBJECTS: Record<DropEventType, string> = {
  'drop.delivered': '[dropkit] daily_orders: slot 20240115T060000Z delivered',
  'run.failed': '[dropkit] daily_orders: run for slot 20240115T060000Z failed at stage',
  'data.delay': '[dropkit] daily_orders: slot 20240115T060000Z missed its deadline',
  'data.delay.recovered': '[dropkit] daily_orders: delayed slot 20240115T060000Z has now arrived',
  'data.update': '[dropkit] daily_orders: slot 20240115T060000Z was replaced by revision 2',
  'schema.change': '[dropkit] daily_orders: columns changed in slot 20240115T060000Z',
  'validation.failed': '[dropkit] daily_orders: validation failed for slot 20240115T060000Z (1 check)',
  'approval.requested': '[dropkit] daily_orders: slot 20240115T060000Z is held for your approval',
};

describe('the notice text table', () => {
  const sns = mockClient(SNSClient);
  afterAll(() => sns.restore());

  it('has an entry for each of the seven notice types', () => {
    expect(Object.keys(NOTICE_TEXT).sort()).toEqual(Object.keys(EVENTS).sort());
  });

  it.each(Object.keys(EVENTS) as DropEventType[])('gives e-mail subscribers of the feed topic the subject and text of %s', async (type) => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    await new SnsNotifier({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:shop-feed-daily_orders' }).notify(EVENTS[type]);
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    const email = JSON.parse(input.Message!).email as string;
    expect(input.Subject).toBe(SUBJECTS[type]);
    expect(email).toBe(eventText(EVENTS[type]).text);
    // Only a delivery says "delivered": a delay, a failure or a change read as what they are.
    if (type === 'drop.delivered') expect(`${input.Subject}\n${email}`).toMatch(/delivered/i);
    else expect(`${input.Subject}\n${email}`).not.toMatch(/deliver/i);
  });

  it('prints the same subject on the console for the notices that are not a delivery or a failed run', () => {
    for (const type of ['data.delay', 'data.delay.recovered', 'data.update', 'schema.change', 'validation.failed'] as const)
      expect(formatDropEvent(EVENTS[type])).toBe(SUBJECTS[type]);
  });
});
