import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListFileTransferResultsCommand, StartFileTransferCommand, TransferClient } from '@aws-sdk/client-transfer';
import { mockClient } from 'aws-sdk-client-mock';
import { LocalStore } from '../../../lib/adapters/local/local-store';
import { TransferConnectorDestination } from '../../../lib/adapters/transfer/transfer-destination';
import { deliverDestinations } from '../../../lib/core/destinations/deliver';
import { fixedClock } from '../../../lib/core/ports/clock';
import { publishDrop } from '../../destinations/drops';

/**
 * The SFTP connector path over aws-sdk-client-mock: no Transfer Family service runs anywhere
 * locally (moto has none), so what is asserted is the exact commands sent and how their answers
 * are read. The connector itself (SFTP, host key) is AWS's.
 */
const CONNECTOR = 'c-0123456789abcdef0';
const DROP_DIR = 'daily/slot=20240115T060000Z/run=r1/';

describe('TransferConnectorDestination', () => {
  let dir: string;
  let store: LocalStore;
  const transfer = mockClient(TransferClient);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dropkit-transfer-'));
    store = new LocalStore(dir);
    transfer.reset();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(() => transfer.restore());

  /** A connector that finishes each transfer after `polls` answers of IN_PROGRESS; `fail` files fail. */
  function connector(o: { polls?: number; fail?: (path: string) => boolean } = {}) {
    const started = new Map<string, string[]>();
    const seen = new Map<string, number>();
    transfer.on(StartFileTransferCommand).callsFake((input) => {
      const id = `t-${started.size + 1}`;
      started.set(id, input.SendFilePaths);
      return { TransferId: id };
    });
    transfer.on(ListFileTransferResultsCommand).callsFake((input) => {
      const n = (seen.get(input.TransferId) ?? 0) + 1;
      seen.set(input.TransferId, n);
      const done = n > (o.polls ?? 0);
      return {
        FileTransferResults: started.get(input.TransferId)!.map((p) => ({
          FilePath: p,
          StatusCode: !done ? 'IN_PROGRESS' : o.fail?.(p) ? 'FAILED' : 'COMPLETED',
          ...(done && o.fail?.(p) ? { FailureCode: 'PERMISSION_DENIED', FailureMessage: 'remote folder not writable' } : {}),
        })),
      };
    });
  }

  const destination = (sleeps: number[] = [], timeLeftMs?: () => number) =>
    new TransferConnectorDestination('acme-sftp', {
      connectorId: CONNECTOR,
      root: '/inbound',
      bucket: 'drops-bucket',
      client: new TransferClient({ region: 'eu-west-1' }),
      pollMs: 5000,
      sleep: async (ms) => void sleeps.push(ms),
      timeLeftMs,
    });

  it('sends the data files from our bucket, polls until they are COMPLETED, then the manifest as a transfer of its own', async () => {
    connector({ polls: 2 });
    const ref = await publishDrop(store, 'r1', 'SELECT 1 AS id');
    const sleeps: number[] = [];
    const [record] = await deliverDestinations(ref, {
      store,
      clock: fixedClock('2024-01-16T07:00:00Z'),
      destinations: [{ destination: destination(sleeps), mode: 'full', takes: 'files' }],
    });
    expect(record).toMatchObject({ status: 'delivered', units: ['part-00000.parquet', 'part-00000.csv', 'manifest.json'], files: 3 });
    const starts = transfer.commandCalls(StartFileTransferCommand).map((c) => c.args[0].input);
    expect(starts).toEqual([
      {
        ConnectorId: CONNECTOR,
        SendFilePaths: [`/drops-bucket/${DROP_DIR}part-00000.parquet`, `/drops-bucket/${DROP_DIR}part-00000.csv`],
        RemoteDirectoryPath: `/inbound/${DROP_DIR.replace(/\/$/, '')}`,
      },
      { ConnectorId: CONNECTOR, SendFilePaths: [`/drops-bucket/${DROP_DIR}manifest.json`], RemoteDirectoryPath: `/inbound/${DROP_DIR.replace(/\/$/, '')}` },
    ]);
    // The manifest transfer starts only after the data transfer's results said COMPLETED (three polls: two IN_PROGRESS, one done).
    expect(transfer.commandCalls(ListFileTransferResultsCommand).map((c) => c.args[0].input.TransferId)).toEqual(['t-1', 't-1', 't-1', 't-2', 't-2', 't-2']);
    expect(sleeps).toEqual([5000, 5000, 5000, 5000]);
  });

  it('records a failed file with the connector answer, sends no manifest, and on the next attempt sends only what is missing', async () => {
    connector({ fail: (p) => p.endsWith('.csv') });
    const ref = await publishDrop(store, 'r1', 'SELECT 1 AS id');
    const deps = {
      store,
      clock: fixedClock('2024-01-16T07:00:00Z'),
      destinations: [{ destination: destination(), mode: 'full' as const, takes: 'files' as const }],
    };
    const [failed] = await deliverDestinations(ref, deps);
    expect(failed.status).toBe('failed');
    expect(failed.units).toEqual(['part-00000.parquet']);
    expect(failed.errors[0].message).toMatch(/transfer t-1 to \/inbound\/daily\/.* failed: part-00000.csv: PERMISSION_DENIED remote folder not writable/);
    expect(transfer.commandCalls(StartFileTransferCommand)).toHaveLength(1);

    transfer.reset();
    connector();
    const [resumed] = await deliverDestinations(ref, deps);
    expect(resumed.status).toBe('delivered');
    expect(transfer.commandCalls(StartFileTransferCommand).map((c) => c.args[0].input.SendFilePaths)).toEqual([
      [`/drops-bucket/${DROP_DIR}part-00000.csv`],
      [`/drops-bucket/${DROP_DIR}manifest.json`],
    ]);
  });

  it('sends ten files per transfer at most', async () => {
    connector();
    const ref = await publishDrop(store, 'r1', 'SELECT 1 AS id');
    const files = Array.from({ length: 23 }, (_, i) => ({ path: `part-${String(i).padStart(5, '0')}.csv`, key: `k/${i}.csv`, bytes: 1, rows: 1 }));
    const manifest = JSON.parse((await store.get(ref.manifestKey))!.body.toString('utf8'));
    const done = new Set<string>();
    await destination().deliver(
      { feed: 'daily', partner: null, runId: 'r1', manifest, manifestKey: ref.manifestKey, files, store, runPrefix: 'x/' },
      { done, markDone: async (u) => void done.add(u) },
    );
    expect(transfer.commandCalls(StartFileTransferCommand).map((c) => c.args[0].input.SendFilePaths!.length)).toEqual([10, 10, 3, 1]);
    expect(done.size).toBe(24);
  });

  it('gives up when the function runs out of time, leaving the rest to the next run', async () => {
    connector({ polls: 100 });
    const ref = await publishDrop(store, 'r1', 'SELECT 1 AS id');
    const [record] = await deliverDestinations(ref, {
      store,
      clock: fixedClock('2024-01-16T07:00:00Z'),
      destinations: [{ destination: destination([], () => 1000), mode: 'full', takes: 'files' }],
    });
    expect(record.status).toBe('failed');
    expect(record.errors[0].message).toMatch(/still running when this delivery ran out of time; the next run resumes it/);
  });
});
