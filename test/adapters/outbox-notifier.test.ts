import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DropEvent } from '../../lib/core/ports/notifier';
import { OutboxNotifier } from '../../lib/adapters/local/outbox-notifier';
import { ConsoleNotifier } from '../../lib/adapters/local/console-notifier';

const delivered: DropEvent = {
  type: 'drop.delivered',
  id: 'evt-1',
  feed: 'daily_orders',
  partner: 'acme',
  runId: 'daily_orders-acme-20240115T060000Z-r1',
  revision: 1,
  slot: '20240115T060000Z',
  occurredAt: '2024-01-15T06:04:12.000Z',
  files: [
    { path: 'part-0.csv', format: 'csv', rows: 1000, bytes: 10, sha256: 'a'.repeat(64), link: { url: 'file:///x/0', expiresAt: null } },
    { path: 'part-1.csv', format: 'csv', rows: 234, bytes: 10, sha256: 'b'.repeat(64), link: { url: 'file:///x/1', expiresAt: null } },
  ],
  sla: { expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T06:04:12.000Z', status: 'MET' },
  rowCount: 1234,
};

const failed: DropEvent = {
  type: 'run.failed',
  id: 'evt-2',
  feed: 'daily_orders',
  partner: null,
  runId: 'daily_orders-20240116T060000Z-r1',
  revision: 1,
  slot: '20240116T060000Z',
  occurredAt: '2024-01-16T06:02:00.000Z',
  error: { step: 'validate', name: 'ValidationFailedError', message: 'check not_null(order_id) failed: 3 rows' },
};

describe('OutboxNotifier', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dropkit-outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends one parseable JSON line per event, creating the parent folders', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'outbox.jsonl');
    const outbox = new OutboxNotifier({ file });

    const outcomes = [await outbox.notify(delivered), await outbox.notify(failed)];

    expect(outcomes).toEqual([
      { target: `outbox ${file}`, status: 'sent', attempts: 1 },
      { target: `outbox ${file}`, status: 'sent', attempts: 1 },
    ]);
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([delivered, failed]);
  });

  it('reports failed instead of throwing when the file cannot be written', async () => {
    // The "parent folder" is a regular file, so neither mkdir nor append can succeed.
    const blocker = path.join(dir, 'blocker');
    await new OutboxNotifier({ file: blocker }).notify(delivered);

    const outcome = await new OutboxNotifier({ file: path.join(blocker, 'outbox.jsonl') }).notify(delivered);

    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toBeTruthy();
  });
});

describe('ConsoleNotifier', () => {
  it('writes one human line for a delivered drop with partner, slot, run, rows, files and SLA', async () => {
    const lines: string[] = [];
    const outcome = await new ConsoleNotifier({ write: (l) => lines.push(l) }).notify(delivered);

    expect(outcome).toEqual({ target: 'console', status: 'sent', attempts: 1 });
    expect(lines).toEqual([
      '[dropkit] drop.delivered daily_orders (partner acme) slot 20240115T060000Z run daily_orders-acme-20240115T060000Z-r1: 1234 rows, 2 files, SLA MET',
    ]);
  });

  it('names the failed step and the error message for a failed run, without a partner', async () => {
    const lines: string[] = [];
    await new ConsoleNotifier({ write: (l) => lines.push(l) }).notify(failed);

    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      '[dropkit] run.failed daily_orders slot 20240116T060000Z run daily_orders-20240116T060000Z-r1: validate failed: ValidationFailedError: check not_null(order_id) failed: 3 rows',
    );
    expect(lines[0]).not.toContain('(partner');
  });

  it('writes to stderr by default', async () => {
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await new ConsoleNotifier().notify(failed);
      expect(spy).toHaveBeenCalledWith(expect.stringMatching(/^\[dropkit\] run\.failed daily_orders .*\n$/));
    } finally {
      spy.mockRestore();
    }
  });
});
