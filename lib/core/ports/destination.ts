import type { Readable } from 'node:stream';
import type { Manifest } from '../manifest';
import type { ObjectStore } from './object-store';

/**
 * Push delivery: after the commit point a drop may also be sent where a partner wants it (their
 * bucket, their SFTP server, an operational system's API). A destination never un-delivers the
 * drop: its failure is a record, not an exception. Every destination is idempotent per runId and
 * resumable: `progress.done` lists what an earlier attempt already sent, and the destination skips it.
 */

/** What a delivery sends: the whole drop, or only what changed since the last drop this destination received. */
export type SyncMode = 'full' | 'upsert' | 'mirror' | 'insert-only';

/** One file of the drop (or of its change set) to send, read through the ObjectStore port. */
export interface DeliveryFile {
  /** Where it goes, relative to the destination's folder/prefix (the manifest's relative path). */
  readonly path: string;
  /** Where it is in our store. */
  readonly key: string;
  readonly bytes: number;
  readonly rows: number;
  /** For row destinations: what the rows are (`upsert` for a full drop, inserts and updates). */
  readonly op?: 'upsert' | 'insert' | 'update' | 'delete';
}

/** Streams the rows of Parquet files in a stable order, batch by batch, never the whole file in memory (the engine does it). */
export interface RowReader {
  rows(keys: readonly string[], options: { readonly batchRows: number; readonly orderBy: readonly string[] }): AsyncIterable<Record<string, unknown>[]>;
}

/** One sent unit an earlier attempt finished: a file path, or a batch id such as `upsert:3`. */
export interface DeliveryProgress {
  readonly done: ReadonlySet<string>;
  /** Called as each unit is sent, so a crash after it does not send it again. */
  markDone(unit: string, counts: { bytes?: number; rowsSent?: number; rowsRejected?: number }): Promise<void>;
}

export interface DeliveryInput {
  readonly feed: string;
  readonly partner: string | null;
  readonly runId: string;
  readonly manifest: Manifest;
  /** The drop's manifest in our store: file destinations send its bytes as they are, last. */
  readonly manifestKey: string;
  /** The files to send: the drop's data files, or the change set of a diff sync. */
  readonly files: readonly DeliveryFile[];
  /**
   * The manifest a file destination writes last: ours plus `delivery.delivered` (what it received).
   * Absent: the manifest's bytes in our store, as they are.
   */
  readonly manifestBody?: string;
  /** A small JSON document describing a change set (diff syncs): written before the manifest. */
  readonly changes?: { readonly path: string; readonly body: string };
  readonly store: ObjectStore;
  readonly rows?: RowReader;
  /** Where a destination keeps what belongs with the run (dead-letter files). */
  readonly runPrefix: string;
  readonly primaryKey?: readonly string[];
}

export interface DeliveryError {
  readonly message: string;
  /** The file or batch it is about, if any. */
  readonly unit?: string;
}

/** What one destination did with one run: kept in the run record and the destination's own record. */
export interface DestinationRecord {
  readonly destination: string;
  /** Short description of the target, e.g. `sftp drops@partner.example:/in`. No secrets. */
  readonly target: string;
  readonly mode: SyncMode;
  /** `partial`: sent, but the API rejected some rows (see the dead-letter file). */
  readonly status: 'delivered' | 'partial' | 'failed';
  /** Units sent (this attempt and earlier ones). */
  readonly units: readonly string[];
  readonly files: number;
  readonly bytes: number;
  readonly rowsSent: number;
  readonly rowsRejected: number;
  readonly errors: readonly DeliveryError[];
  /** Store key of the rejected rows (JSON lines), when there are any. */
  readonly deadLetter?: string;
  /** The drop the change set was computed against; null for a first (full) sync. */
  readonly base?: string | null;
  /**
   * The partial sync (runId) whose rejected rows this one sends again: after a partial sync the
   * base stays at the last complete one, so the diff holds those rows once more.
   */
  readonly carriesRejectedOf?: string;
  /** The change set of a diff sync, computed once: a retry sends these very files, never a recomputed set. */
  readonly changeSet?: { readonly [op in 'inserts' | 'updates' | 'deletes']: { readonly key: string; readonly rows: number; readonly bytes: number } };
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface Destination {
  /** The destination's name in the feed file: unique per feed and partner. */
  readonly name: string;
  readonly target: string;
  /** Sends what `progress.done` does not list yet. Throws on failure; the caller records it. */
  deliver(input: DeliveryInput, progress: DeliveryProgress): Promise<void>;
  close?(): Promise<void>;
}

/**
 * A place files can be put whole: the common part of the local folder, S3 and SFTP destinations.
 * `put` must leave no partial file visible under `path` (temporary name then rename, or an atomic PUT).
 */
export interface FileSink {
  readonly target: string;
  put(path: string, body: () => Promise<Readable>, bytes: number): Promise<void>;
  /** The size of what is at `path`, undefined when absent. */
  size(path: string): Promise<number | undefined>;
  close(): Promise<void>;
}
