import { posix } from 'node:path';
import { ListFileTransferResultsCommand, StartFileTransferCommand, TransferClient, type ConnectorFileTransferResult } from '@aws-sdk/client-transfer';
import { remoteDropDir } from '../../core/destinations/file-delivery';
import type { DeliveryInput, DeliveryProgress, Destination } from '../../core/ports/destination';

export interface TransferConnectorOptions {
  /** The AWS Transfer Family SFTP connector (it holds the partner's URL, our key and their pinned host key). */
  readonly connectorId: string;
  /** Remote folder the drop goes into (the feed's `path`): the drop's own folders are made below it. */
  readonly root: string;
  /** Our drops bucket: a connector sends objects of S3, so the drop is sent from its own keys. */
  readonly bucket: string;
  readonly client?: TransferClient;
  /** Between polls of a transfer's results. Default 5 s. */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds this delivery may still wait (the Lambda's remaining time): past it, the delivery fails and the next run resumes it. */
  readonly timeLeftMs?: () => number;
}

/** StartFileTransfer takes at most 10 paths. */
export const MAX_FILES_PER_TRANSFER = 10;
const MANIFEST_UNIT = 'manifest.json';
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TransferFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransferFailedError';
  }
}

/**
 * SFTP on AWS through a Transfer Family SFTP connector: `StartFileTransfer` sends objects of our
 * bucket (the drop's own keys), then `ListFileTransferResults` is polled until each file is
 * COMPLETED or FAILED. A connector writes each file under its final name while it is sent (it
 * cannot upload to a temporary name and rename), so a partner's watcher may see a data file grow;
 * what it can trust is the manifest, sent last as a transfer of its own once every data file
 * arrived. Files in one transfer share a remote folder, ten at most. Resumable: a file the
 * record lists is not sent again; a file sent by an attempt that died before recording it is sent
 * again (overwritten whole).
 */
export class TransferConnectorDestination implements Destination {
  readonly target: string;
  private readonly client: TransferClient;
  private readonly pollMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly name: string,
    private readonly options: TransferConnectorOptions,
  ) {
    this.target = `sftp connector ${options.connectorId}:${options.root}`;
    this.client = options.client ?? new TransferClient({});
    this.pollMs = options.pollMs ?? 5000;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async deliver(input: DeliveryInput, progress: DeliveryProgress): Promise<void> {
    const dir = remoteDropDir(input);
    const units = input.files.map((f) => ({ unit: f.path, path: f.path, key: f.key, bytes: f.bytes }));
    if (input.changes) {
      // A connector sends only what is in S3: the change description is put beside the run's deliveries first.
      const key = `${input.runPrefix}${input.changes.path}`;
      const body = Buffer.from(input.changes.body, 'utf8');
      await input.store.put(key, body, { contentType: 'application/json' });
      units.push({ unit: input.changes.path, path: input.changes.path, key, bytes: body.length });
    }
    await this.sendAll(
      units.filter((u) => !progress.done.has(u.unit)),
      dir,
      progress,
    );
    if (progress.done.has(MANIFEST_UNIT)) return;
    const manifest = await input.store.get(input.manifestKey);
    if (!manifest) throw new Error(`${input.manifestKey} is gone from the store`);
    await this.sendAll([{ unit: MANIFEST_UNIT, path: 'manifest.json', key: input.manifestKey, bytes: manifest.body.length }], dir, progress);
  }

  /** Sends files in transfers of one remote folder and ten files at most, each polled to its end. */
  private async sendAll(units: readonly { unit: string; path: string; key: string; bytes: number }[], dir: string, progress: DeliveryProgress) {
    const byFolder = new Map<string, (typeof units)[number][]>();
    for (const u of units) {
      const folder = posix.join(this.options.root, dir, posix.dirname(u.path));
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), u]);
    }
    for (const [folder, files] of byFolder) {
      for (let i = 0; i < files.length; i += MAX_FILES_PER_TRANSFER) {
        const batch = files.slice(i, i + MAX_FILES_PER_TRANSFER);
        const sendPaths = batch.map((f) => `/${this.options.bucket}/${f.key}`);
        const started = await this.client.send(
          new StartFileTransferCommand({ ConnectorId: this.options.connectorId, SendFilePaths: sendPaths, RemoteDirectoryPath: folder }),
        );
        if (!started.TransferId) throw new TransferFailedError(`connector ${this.options.connectorId} started no transfer (no TransferId)`);
        const results = await this.awaitTransfer(started.TransferId);
        const failed: string[] = [];
        for (const [j, f] of batch.entries()) {
          const r = results.find((x) => x.FilePath === sendPaths[j] || x.FilePath.endsWith(`/${posix.basename(f.key)}`));
          if (r?.StatusCode === 'COMPLETED') await progress.markDone(f.unit, { bytes: f.bytes });
          else failed.push(`${f.path}: ${r ? `${r.FailureCode ?? r.StatusCode} ${r.FailureMessage ?? ''}`.trim() : 'no result'}`);
        }
        if (failed.length)
          throw new TransferFailedError(`connector ${this.options.connectorId} transfer ${started.TransferId} to ${folder} failed: ${failed.join('; ')}`);
      }
    }
  }

  /** Polls a transfer until no file of it is QUEUED or IN_PROGRESS, bounded by the time left. */
  private async awaitTransfer(transferId: string): Promise<{ FilePath: string; StatusCode: string; FailureCode?: string; FailureMessage?: string }[]> {
    for (;;) {
      const results: ConnectorFileTransferResult[] = [];
      let token: string | undefined;
      do {
        const page = await this.client.send(
          new ListFileTransferResultsCommand({ ConnectorId: this.options.connectorId, TransferId: transferId, NextToken: token }),
        );
        results.push(...(page.FileTransferResults ?? []));
        token = page.NextToken;
      } while (token);
      const pending = results.length === 0 || results.some((r) => r.StatusCode === 'QUEUED' || r.StatusCode === 'IN_PROGRESS');
      if (!pending)
        return results.map((r) => ({
          FilePath: r.FilePath ?? '',
          StatusCode: r.StatusCode ?? 'FAILED',
          FailureCode: r.FailureCode,
          FailureMessage: r.FailureMessage,
        }));
      if ((this.options.timeLeftMs?.() ?? Number.POSITIVE_INFINITY) < this.pollMs)
        throw new TransferFailedError(
          `connector ${this.options.connectorId} transfer ${transferId} was still running when this delivery ran out of time; the next run resumes it`,
        );
      await this.sleep(this.pollMs);
    }
  }
}
