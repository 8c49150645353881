import { formatDropEvent } from '../../lib/adapters/local/console-notifier';
import { eventText, humanDuration } from '../../lib/core/notices/event-text';
import { dataUpdateEvent, schemaChangeEvent, validationFailedEvent } from '../../lib/core/notices/events';
import { describeSchemaChange, schemaChange } from '../../lib/core/notices/schema-change';
import type { DropEvent, DropEventType } from '../../lib/core/ports/notifier';
import { manifestFor, runRecordFor } from './sla-fixtures';

const NOW = new Date('2024-01-16T07:00:00Z');
const drop = (slot: string, day: string, columns: { name: string; type: string }[], revision = 1, rowCount = 3) =>
  manifestFor({
    slot,
    scheduledFor: `${day}T06:00:00.000Z`,
    expectedBy: `${day}T08:00:00.000Z`,
    deliveredAt: `${day}T06:30:00.000Z`,
    columns,
    revision,
    rowCount,
  });

describe('schema change between two drops', () => {
  const before = [
    { name: 'id', type: 'INTEGER' },
    { name: 'label', type: 'VARCHAR' },
    { name: 'amount', type: 'DECIMAL(10,2)' },
    { name: 'legacy_code', type: 'VARCHAR' },
  ];
  const after = [
    { name: 'id', type: 'BIGINT' },
    { name: 'label', type: 'varchar' },
    { name: 'amount', type: 'DOUBLE' },
    { name: 'currency', type: 'VARCHAR' },
  ];

  it('names the columns added, removed and retyped, ignoring the case of type names', () => {
    expect(schemaChange(before, after)).toEqual({
      added: [{ name: 'currency', type: 'VARCHAR' }],
      removed: [{ name: 'legacy_code', type: 'VARCHAR' }],
      retyped: [
        { name: 'id', from: 'INTEGER', to: 'BIGINT' },
        { name: 'amount', from: 'DECIMAL(10,2)', to: 'DOUBLE' },
      ],
      reordered: false,
    });
  });

  it('reports a reorder of the same columns, and nothing for identical columns', () => {
    expect(schemaChange(before, [...before].reverse())).toEqual({ added: [], removed: [], retyped: [], reordered: true });
    expect(
      schemaChange(
        before,
        before.map((c) => ({ ...c, nullable: false })),
      ),
    ).toBeNull();
  });

  it('builds a schema.change notice from two manifests, keyed by the new run, and none when the columns match', () => {
    const previous = drop('20240115T060000Z', '2024-01-15', before);
    const current = drop('20240116T060000Z', '2024-01-16', after);
    const event = schemaChangeEvent(previous, current, NOW)!;
    expect(event).toMatchObject({
      type: 'schema.change',
      id: `${current.runId}.schema-change`,
      slot: '20240116T060000Z',
      update: { supersedes: { runId: previous.runId } },
    });
    expect(describeSchemaChange(event.schemaChange!)).toEqual([
      'added currency (VARCHAR)',
      'removed legacy_code (VARCHAR)',
      'id: INTEGER → BIGINT',
      'amount: DECIMAL(10,2) → DOUBLE',
    ]);
    expect(schemaChangeEvent(previous, drop('20240116T060000Z', '2024-01-16', before), NOW)).toBeNull();
    expect(schemaChangeEvent(null, current, NOW)).toBeNull();
  });
});

describe('notice builders', () => {
  it('build data.update only for a rerun, naming the revision it supersedes and both row counts', () => {
    const r1 = drop('20240115T060000Z', '2024-01-15', [{ name: 'id', type: 'INTEGER' }], 1, 3);
    const r2 = drop('20240115T060000Z', '2024-01-15', [{ name: 'id', type: 'INTEGER' }], 2, 4);
    expect(dataUpdateEvent(r1, null, NOW)).toBeNull();
    expect(dataUpdateEvent(r2, r1, NOW)).toMatchObject({
      type: 'data.update',
      id: `${r2.runId}.data-update`,
      revision: 2,
      rowCount: 4,
      update: { supersedes: { runId: r1.runId, revision: 1 }, previousRowCount: 3 },
    });
  });

  it('build validation.failed for operators from a run record, listing the failed checks only', () => {
    const run = {
      ...runRecordFor({ slot: '20240115T060000Z', status: 'validation-failed', startedAt: '2024-01-15T06:01:00.000Z', message: '1 check failed' }),
      validation: {
        status: 'fail' as const,
        checks: [
          { name: 'row_count', type: 'row_count', severity: 'error' as const, outcome: 'pass' as const, observed: 3, threshold: { min: 1 }, message: 'ok' },
          { name: 'unique(id)', type: 'unique', severity: 'error' as const, outcome: 'fail' as const, observed: 2, threshold: 0, message: '2 duplicate rows' },
        ],
      },
    };
    expect(validationFailedEvent(run, NOW)).toMatchObject({
      type: 'validation.failed',
      audience: 'operators',
      id: `${run.runId}.validation-failed`,
      validation: { failed: [{ name: 'unique(id)', message: '2 duplicate rows' }] },
    });
    expect(validationFailedEvent(runRecordFor({ slot: '20240115T060000Z', status: 'failed', startedAt: NOW.toISOString() }), NOW)).toBeNull();
  });
});

describe('event text', () => {
  const base = {
    id: 'k',
    feed: 'daily',
    partner: 'acme',
    runId: '20240115T060000Z-r1-abc',
    revision: 1,
    slot: '20240115T060000Z',
    occurredAt: '2024-01-15T09:00:00.000Z',
  };
  const link = (url: string) => ({ url, expiresAt: '2024-01-15T10:00:00.000Z' });
  const events: Record<DropEventType, DropEvent> = {
    'drop.delivered': {
      ...base,
      type: 'drop.delivered',
      rowCount: 3,
      manifest: { key: 'm', link: link('https://x/manifest.json') },
      files: [{ path: 'part-00000.csv', format: 'csv', rows: 3, bytes: 10, sha256: 'ab', link: link('https://x/part-00000.csv') }],
      sla: { expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T08:05:00.000Z', status: 'LATE' },
    },
    'run.failed': { ...base, type: 'run.failed', error: { step: 'stage', name: 'QueryFailedError', message: 'no table events' } },
    'data.delay': {
      ...base,
      type: 'data.delay',
      delay: {
        phase: 'missed',
        scheduledFor: '2024-01-15T06:00:00.000Z',
        expectedBy: '2024-01-15T08:00:00.000Z',
        missedAt: '2024-01-15T08:30:00.000Z',
        owner: 'data-platform@shop.example',
        eta: null,
        state: 'MISSED',
        detail: 'no run is recorded',
      },
    },
    'data.delay.recovered': {
      ...base,
      type: 'data.delay.recovered',
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
      audience: 'operators',
      validation: { status: 'fail', failed: [{ name: 'unique(id)', type: 'unique', severity: 'error', outcome: 'fail', message: '2 duplicate rows' }] },
    },
    'approval.requested': {
      ...base,
      type: 'approval.requested',
      audience: 'operators',
      approval: {
        approvers: ['owner@shop.example'],
        reasons: ['drift: drift(amount) warn: psi 0.4'],
        deadline: '2024-01-15T17:00:00.000Z',
        schema: [{ name: 'amount', type: 'DOUBLE' }],
        profile: { rows: 3, quantileLevels: [], columns: [{ name: 'amount', kind: 'number', nullFraction: 0.5, distinct: 2, min: 1, max: 9 }] },
      },
    },
  };
  const expected: Record<DropEventType, [RegExp, RegExp]> = {
    'drop.delivered': [/slot 20240115T060000Z delivered late/, /https:\/\/x\/part-00000\.csv[\s\S]*Links expire at 2024-01-15T10:00/],
    'run.failed': [/failed at stage/, /QueryFailedError: no table events[\s\S]*Nothing was published/],
    'data.delay': [/missed its deadline/, /due by 2024-01-15T08:00:00.000Z and has not arrived\.\nno run is recorded/],
    'data.delay.recovered': [/delayed slot .* has now arrived/, /1 h 05 min after its deadline/],
    'data.update': [/replaced by revision 2/, /replaces revision 1 \(run r1\)[\s\S]*Rows: 3 before, 4 now/],
    'schema.change': [/columns changed/, /- amount: DECIMAL\(10,2\) → DOUBLE/],
    'validation.failed': [/validation failed .*\(1 check\)/, /unique\(id\) \(unique, error\): fail: 2 duplicate rows/],
    'approval.requested': [
      /held for your approval/,
      /drift\(amount\) warn[\s\S]*amount: 50\.0% null, ~2 distinct, 1 … 9[\s\S]*dropkit approve daily --slot 20240115T060000Z --partner acme/,
    ],
  };

  it.each(Object.keys(events) as DropEventType[])('gives %s a subject and a text a person can read', (type) => {
    const { subject, text } = eventText(events[type]);
    expect(subject).toMatch(/^\[dropkit\] daily for acme: /);
    expect(subject).toMatch(expected[type][0]);
    expect(text).toMatch(expected[type][1]);
    expect(text).toContain(`Event: ${type}, id k`);
  });

  it('prints the new notice types on the console as their subject', () => {
    expect(formatDropEvent(events['data.delay'])).toBe('[dropkit] daily for acme: slot 20240115T060000Z missed its deadline');
  });

  it('writes durations in hours and minutes', () => {
    expect([humanDuration(45), humanDuration(60), humanDuration(3900), humanDuration(90061)]).toEqual(['45 s', '1 min', '1 h 05 min', '1 d 1 h 01 min']);
  });
});
