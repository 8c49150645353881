import { UsageError } from './errors';

/**
 * Where everything lives in a store (bucket or folder), per DESIGN.md "Layout of a drop":
 *   <prefix>/<feed>/[partner=<id>/]slot=<slotId>/run=<runId>/{part-*, manifest.json}
 *   <prefix>/<feed>/[partner=<id>/]latest.json
 * Run records and staging sit beside the feeds under names no feed can take (feeds start with a letter).
 */
/** The names the layout is made of, each spelt here only. */
const SLOT = 'slot=';
const RUN = 'run=';
const PARTNER = 'partner=';
export const MANIFEST_FILE = 'manifest.json';
export const LATEST_FILE = 'latest.json';
const STAGING = '_staging';
const LEASES = '_leases';
const RUNS = '_runs';
const SLA = '_sla';
const APPROVALS = '_approvals';
const DELIVERIES = '_deliveries';
/** Athena's query results: beside the project's prefix at the bucket's root, outside every feed. */
export const ATHENA_RESULTS_PREFIX = '_athena-results/';

/** A local store's folder also holds what only a local run has: the outbox of notices and the engine's scratch files. */
export const LOCAL_OUTBOX_FILE = '_outbox/events.jsonl';
export const LOCAL_WORK_FOLDER = '_work';

/** A slot id: UTC basic ISO-8601, e.g. `20240115T060000Z` (slots.ts `slotId` makes them). */
const SLOT_ID_TEXT = '\\d{8}T\\d{6}Z';
export const SLOT_ID = new RegExp(`^${SLOT_ID_TEXT}$`);

/** UTC basic ISO-8601, e.g. `20240115T060000Z`: the slot's name in paths and run ids. */
export function slotId(slot: Date): string {
  const t = slot instanceof Date ? slot.getTime() : NaN;
  if (Number.isNaN(t)) throw new UsageError('slot is not a valid date');
  if (t % 1000 !== 0) throw new UsageError(`slot ${slot.toISOString()} has fractions of a second; slot ids are whole seconds`);
  return slot.toISOString().replace(/[-:]|\.000/g, '');
}

export function parseSlotId(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(id);
  const d = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
  // Date.UTC rolls 30 February over into March; the round trip catches that.
  if (!d || Number.isNaN(d.getTime()) || slotId(d) !== id) {
    throw new UsageError(`"${id}" is not a slot id: expected UTC basic ISO-8601 like 20240115T060000Z`);
  }
  return d;
}

export interface DropCoordinates {
  readonly prefix: string;
  readonly feed: string;
  readonly partner: string | null;
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

const partnerFolder = (partner: string | null) => (partner ? `${PARTNER}${partner}` : '');

export function feedRoot(c: DropCoordinates): string {
  return join(c.prefix, c.feed, partnerFolder(c.partner)) + '/';
}

export function slotPrefix(c: DropCoordinates, slotId: string): string {
  return slotUnder(feedRoot(c), slotId);
}

export function dropPrefix(c: DropCoordinates, slotId: string, runId: string): string {
  return `${slotPrefix(c, slotId)}${RUN}${runId}/`;
}

export function manifestKey(c: DropCoordinates, slotId: string, runId: string): string {
  return `${dropPrefix(c, slotId, runId)}${MANIFEST_FILE}`;
}

export function latestKey(c: DropCoordinates): string {
  return `${feedRoot(c)}${LATEST_FILE}`;
}

/** Everything any attempt of a run stages; removed whole by the attempt that next owns the slot. */
export function runStagingRoot(prefix: string, runId: string): string {
  return join(prefix, STAGING, runId) + '/';
}

/** What one attempt stages: attempts never share a staging prefix. */
export function stagingPrefix(prefix: string, runId: string, attemptId: string): string {
  return `${runStagingRoot(prefix, runId)}${attemptId}/`;
}

/** The per-slot lease: one attempt at a time owns a slot. */
export function leaseKey(c: DropCoordinates, slotId: string): string {
  return join(c.prefix, LEASES, c.feed, partnerFolder(c.partner), `${SLOT}${slotId}.json`);
}

export function runRecordKey(c: DropCoordinates, slotId: string, runId: string): string {
  return join(c.prefix, RUNS, c.feed, partnerFolder(c.partner), `${SLOT}${slotId}`, `${runId}.json`);
}

export function runRecordsPrefix(prefix: string, feed?: string): string {
  return join(prefix, RUNS, feed ?? '') + '/';
}

/** Reads slot and run back out of a manifest key. */
export function parseDropKey(key: string): { slotId: string; runId: string } | undefined {
  const m = new RegExp(`${SLOT}([^/]+)/${RUN}([^/]+)/${escapeRegExp(MANIFEST_FILE)}$`).exec(key);
  return m ? { slotId: m[1], runId: m[2] } : undefined;
}

/** What the SLA watch has told about one slot (its state object, written with conditional writes). */
export function slaStateKey(c: DropCoordinates, slotId: string): string {
  return join(c.prefix, SLA, c.feed, partnerFolder(c.partner), `${SLOT}${slotId}.json`);
}

/** Run records of one feed and partner: `<prefix>/_runs/<feed>/[partner=<id>/]`. */
export function partnerRunRecordsPrefix(c: DropCoordinates): string {
  return join(c.prefix, RUNS, c.feed, partnerFolder(c.partner)) + '/';
}

/** `text` matched literally inside a RegExp. */
export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A data file of a drop: `part-00000.<extension>` (CSV, CSV.gz, Parquet), numbered from 0. */
export function dataFileName(index: number, extension: string): string {
  return `part-${String(index).padStart(5, '0')}.${extension}`;
}

/** Where a destination keeps the rows a target refused, below its run folder (deliveryPrefix). */
export function deadLetterPrefix(runPrefix: string): string {
  return `${runPrefix}dead-letter/`;
}

/** Where every slot folder of a feed (and partner) starts: list it to see the slots. */
export function slotsPrefix(c: DropCoordinates): string {
  return slotsUnder(feedRoot(c));
}

/** The start of the slot folders below a folder of the layout (a feed root or a run records folder). */
export function slotsUnder(folder: string): string {
  return `${folder}${SLOT}`;
}

/** One slot's folder below a folder of the layout. */
export function slotUnder(folder: string, slotId: string): string {
  return `${slotsUnder(folder)}${slotId}/`;
}

/** The drop folder a manifest sits in (its files are named relative to it). */
export function dropPrefixOfManifest(manifestKey: string): string {
  return manifestKey.slice(0, manifestKey.length - MANIFEST_FILE.length);
}

/** The folder `latest.json` sits in: the pointer names its manifest relative to it. */
export function latestBase(latestKey: string): string {
  return latestKey.slice(0, latestKey.length - LATEST_FILE.length);
}

/** A drop's folder relative to the feeds' prefix: the layout a file destination repeats under its own folder. */
export function relativeDropPrefix(feed: string, partner: string | null, slotId: string, runId: string): string {
  return dropPrefix({ prefix: '', feed, partner }, slotId, runId);
}

/** The slot of a key below a feed root (`slot=<id>/…`), given the part after the root. */
export function slotOfFeedPath(rest: string): string | undefined {
  return new RegExp(`^${SLOT}(${SLOT_ID_TEXT})/`).exec(rest)?.[1];
}

/** Whether a key below a feed root is in a partner's folder (a shared feed's root holds none). */
export function inPartnerFolder(rest: string): boolean {
  return rest.includes(PARTNER);
}

/** The slot of a run record, given its key after {@link partnerRunRecordsPrefix}. */
export function slotOfRunRecordPath(rest: string): string | undefined {
  return new RegExp(`^${SLOT}([^/]+)/[^/]+\\.json$`).exec(rest)?.[1];
}

/** The attempt id back out of a staging key (DuckDB names its scratch files by it). */
export function attemptOfStagingKey(stagingKey: string): string {
  return stagingKey.replace(new RegExp(`^.*${STAGING}/`), '').replace(/\/(staged\.(parquet|duckdb))?$/, '');
}

/** The staging root of a layout prefix (the folder a local engine keeps when given no attempt's prefix). */
export function stagingRoot(prefix: string): string {
  return join(prefix, STAGING);
}

/** Destinations' own state, beside the run records: `<prefix>/_deliveries/<feed>/[partner=<id>/]`. */
export function deliveriesRoot(c: DropCoordinates): string {
  return join(c.prefix, DELIVERIES, c.feed, partnerFolder(c.partner)) + '/';
}

/** Where Athena's row reader keeps its symlink lists and query results: beside the destinations' records, never in a drop's folder. */
export function athenaRowsScratch(prefix: string): string {
  return join(prefix, DELIVERIES, '_athena-rows') + '/';
}

/** What destinations sent for one run (`…/slot=<slot>/<runId>/<destination>.json`), and their change sets and dead letters. */
export function deliveryRunPrefix(c: DropCoordinates, slotId: string, runId: string): string {
  return `${deliveriesRoot(c)}${SLOT}${slotId}/${runId}/`;
}

/** Every kind of object the layout has, as {@link parseStoreKey} tells them apart. */
export type StoreKeyKind = 'drop-file' | 'manifest' | 'latest' | 'lease' | 'run-record' | 'sla-state' | 'approval' | 'staging' | 'delivery' | 'athena-result';

/**
 * What a key of the store is, by the layout alone (relative to the bucket root, given the
 * project's prefix); undefined for a key the layout has no place for.
 */
export function parseStoreKey(key: string, prefix: string): { kind: StoreKeyKind } | undefined {
  if (key.startsWith(ATHENA_RESULTS_PREFIX)) return { kind: 'athena-result' };
  const under = prefix ? `${prefix}/` : '';
  if (!key.startsWith(under)) return undefined;
  const rest = key.slice(under.length);
  const feed = '[a-z][a-z0-9_-]*';
  const partner = `(?:${PARTNER}[a-z0-9][a-z0-9-]*/)?`;
  const slot = `${SLOT}${SLOT_ID_TEXT}`;
  const rules: [StoreKeyKind, string][] = [
    ['manifest', `${feed}/${partner}${slot}/${RUN}[^/]+/${escapeRegExp(MANIFEST_FILE)}`],
    ['drop-file', `${feed}/${partner}${slot}/${RUN}[^/]+/[^/]+`],
    ['latest', `${feed}/${partner}${escapeRegExp(LATEST_FILE)}`],
    ['lease', `${LEASES}/${feed}/${partner}${slot}\\.json`],
    ['run-record', `${RUNS}/${feed}/${partner}${slot}/[^/]+\\.json`],
    ['sla-state', `${SLA}/${feed}/${partner}${slot}\\.json`],
    ['approval', `${APPROVALS}/${feed}/${partner}${slot}\\.json`],
    ['staging', `${STAGING}/[^/]+/.+`],
    ['delivery', `${DELIVERIES}/${feed}/${partner}(?:${slot}/[^/]+/.+|[^/]+\\.last\\.json)`],
  ];
  const hit = rules.find(([, re]) => new RegExp(`^${re}$`).test(rest));
  return hit ? { kind: hit[0] } : undefined;
}

/**
 * IAM resource patterns (object keys, `*` matching any run of characters, `/` included) for each
 * kind of object, under a layout prefix. lib/cdk/key-scopes.ts grants from these, so a change of
 * the layout moves the policies with it.
 */
export const pattern = {
  /** Published drop files and manifests of every feed: `<p>/<feed>/[partner=…/]slot=…/run=…/…`. */
  dropFiles: (prefix: string) => `${under(prefix)}*/${SLOT}*/${RUN}*/*`,
  latest: (prefix: string) => `${under(prefix)}*/${LATEST_FILE}`,
  leases: (prefix: string) => `${under(prefix)}${LEASES}/*`,
  runs: (prefix: string) => `${under(prefix)}${RUNS}/*`,
  sla: (prefix: string) => `${under(prefix)}${SLA}/*`,
  approvals: (prefix: string) => `${under(prefix)}${APPROVALS}/*`,
  staging: (prefix: string) => `${under(prefix)}${STAGING}/*`,
  deliveries: (prefix: string) => `${under(prefix)}${DELIVERIES}/*`,
  /** Everything of the project, for ListBucket's `s3:prefix` condition. */
  everything: (prefix: string) => `${under(prefix)}*`,
  athenaResults: () => `${ATHENA_RESULTS_PREFIX}*`,
};

function under(prefix: string): string {
  return prefix ? `${prefix}/` : '';
}

/** Where a slot's held drop (sign-off, lib/core/approval) is recorded: beside the leases, under a name no feed can take. */
export function approvalKey(c: DropCoordinates, slot: string): string {
  return join(c.prefix, APPROVALS, c.feed, partnerFolder(c.partner), `${SLOT}${slot}.json`);
}

export function approvalsPrefix(prefix: string, feed?: string): string {
  return join(prefix, APPROVALS, feed ?? '') + '/';
}
