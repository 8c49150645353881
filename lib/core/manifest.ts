import type { ColumnSemantics } from '../semantic/compile';
import type { CheckResult } from './checks/check-types';
import type { ColumnSchema } from './ports/query-engine';
import type { Profile } from './profile/profile';
import type { ManifestApproval } from './approval/approval';

/** Manifest version 1 (DESIGN.md). Its JSON Schema is `schemas/manifest.v1.schema.json`. */
export interface ManifestFile {
  /** Relative to the manifest. */
  readonly path: string;
  readonly format: 'csv' | 'parquet';
  readonly compression: 'gzip' | 'zstd' | 'snappy' | 'none';
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
  /** The object's version, where the store keeps versions (a versioned S3 bucket). */
  readonly versionId?: string;
}

/** The slot a drop covers: its tick, data interval and the schedule it came from. */
export interface SlotInfo {
  readonly id: string;
  readonly scheduledFor: string;
  readonly dataInterval: { readonly start: string; readonly end: string };
  readonly timezone: string;
  readonly cron: string;
}

export type ValidationStatus = 'pass' | 'warn' | 'fail';

/** One destination of the drop, as the feed said at the commit point. */
export interface ManifestDestination {
  readonly name: string;
  readonly kind: 'local' | 's3' | 'sftp' | 'api';
  /** Where it goes, without secrets. */
  readonly target: string;
  readonly mode: 'full' | 'upsert' | 'mirror' | 'insert-only';
  /** The partner whose destination it is; null for the feed's own. */
  readonly partner: string | null;
}

/** The manifest's `delivery` section (schemas/manifest.v1.schema.json). */
export interface ManifestDelivery {
  readonly destinations: readonly ManifestDestination[];
  /** Only in the copy a file destination receives: what it received. */
  readonly delivered?: {
    readonly destination: string;
    readonly mode: ManifestDestination['mode'];
    /** runId of the drop a diff was computed against; null for a whole drop or a first sync. */
    readonly base: string | null;
    readonly files: readonly {
      readonly path: string;
      readonly op?: 'upsert' | 'insert' | 'update' | 'delete';
      readonly rows: number;
      readonly bytes: number;
    }[];
  };
}

export interface Manifest {
  readonly manifestVersion: 1;
  readonly feed: string;
  readonly partner: string | null;
  readonly runId: string;
  readonly revision: number;
  readonly supersedes: string | null;
  readonly status: 'DELIVERED';
  readonly slot: SlotInfo;
  readonly sla: {
    readonly expectedBy: string;
    readonly warnAt: string | null;
    readonly deliveredAt: string;
    readonly latenessSeconds: number;
    readonly status: 'MET' | 'LATE';
  };
  readonly timings: {
    readonly startedAt: string;
    readonly stagedAt: string;
    readonly validatedAt: string;
    readonly renderedAt: string;
    readonly publishedAt: string;
  };
  readonly query: {
    readonly engine: string;
    readonly sqlSha256: string;
    readonly parameters: Readonly<Record<string, string | number | boolean>>;
    readonly executionId: string | null;
    readonly bytesScanned: number | null;
    /** Time the engine spent on the staging query, where it reports it. */
    readonly engineMillis?: number | null;
  };
  readonly schema: { readonly columns: readonly ColumnSchema[] };
  readonly rowCount: number;
  readonly files: readonly ManifestFile[];
  /** How the CSV files are written, so a consumer can read them without guessing. */
  readonly csv: {
    readonly delimiter: string;
    readonly quote: string;
    readonly header: boolean;
    readonly nullText: string;
    readonly lineEnding: 'lf' | 'crlf';
    readonly encoding: string;
    /** `neutralize`: values a spreadsheet would run as formulas carry a ' in front (feed-schema.ts `formulas`). Written by every run; absent in older manifests (keep). */
    readonly formulas?: 'keep' | 'neutralize';
  } | null;
  readonly validation: { readonly status: ValidationStatus; readonly checks: readonly CheckResult[] };
  /** For a feed written as a metric selection: per column, the metric or dimension and its definition. */
  readonly semantics?: { readonly columns: readonly ColumnSemantics[] };
  /** What each column looks like, computed in the checks' scan (absent in manifests written before profiles). */
  readonly profile?: Profile;
  /** Where the drop is pushed (absent without destinations, and in manifests written before them). */
  readonly delivery?: ManifestDelivery;
  /** Sign-off (lib/core/approval): absent in manifests written before it, or of feeds without `approval`. */
  readonly approval?: ManifestApproval;
  readonly toolkitVersion: string;
}

/** `latest.json`: the pointer to the newest delivered manifest of a feed (and partner). */
export interface LatestPointer {
  readonly manifestVersion: 1;
  readonly feed: string;
  readonly partner: string | null;
  readonly runId: string;
  readonly revision: number;
  readonly slot: string;
  readonly scheduledFor: string;
  /** Relative to latest.json. */
  readonly manifest: string;
  readonly manifestSha256: string;
  readonly publishedAt: string;
}

/** Which run a record is about, as the manifest, the pointer and the run record all say it. */
export interface RunIdentity {
  readonly feed: string;
  readonly partner: string | null;
  readonly runId: string;
  readonly revision: number;
  readonly slot: string;
  readonly scheduledFor: string;
}

export function runIdentity(m: Pick<Manifest, 'feed' | 'partner' | 'runId' | 'revision' | 'slot'>): RunIdentity {
  return { feed: m.feed, partner: m.partner, runId: m.runId, revision: m.revision, slot: m.slot.id, scheduledFor: m.slot.scheduledFor };
}
