/**
 * Where everything lives in a store (bucket or folder), per DESIGN.md "Layout of a drop":
 *   <prefix>/<feed>/[partner=<id>/]slot=<slotId>/run=<runId>/{part-*, manifest.json}
 *   <prefix>/<feed>/[partner=<id>/]latest.json
 * Run records and staging sit beside the feeds under names no feed can take (feeds start with a letter).
 */
export interface DropCoordinates {
  readonly prefix: string;
  readonly feed: string;
  readonly partner: string | null;
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

export function feedRoot(c: DropCoordinates): string {
  return join(c.prefix, c.feed, c.partner ? `partner=${c.partner}` : '') + '/';
}

export function slotPrefix(c: DropCoordinates, slotId: string): string {
  return `${feedRoot(c)}slot=${slotId}/`;
}

export function dropPrefix(c: DropCoordinates, slotId: string, runId: string): string {
  return `${slotPrefix(c, slotId)}run=${runId}/`;
}

export function manifestKey(c: DropCoordinates, slotId: string, runId: string): string {
  return `${dropPrefix(c, slotId, runId)}manifest.json`;
}

export function latestKey(c: DropCoordinates): string {
  return `${feedRoot(c)}latest.json`;
}

/** Everything any attempt of a run stages; removed whole by the attempt that next owns the slot. */
export function runStagingRoot(prefix: string, runId: string): string {
  return join(prefix, '_staging', runId) + '/';
}

/** What one attempt stages: attempts never share a staging prefix. */
export function stagingPrefix(prefix: string, runId: string, attemptId: string): string {
  return `${runStagingRoot(prefix, runId)}${attemptId}/`;
}

/** The per-slot lease: one attempt at a time owns a slot. */
export function leaseKey(c: DropCoordinates, slotId: string): string {
  return join(c.prefix, '_leases', c.feed, c.partner ? `partner=${c.partner}` : '', `slot=${slotId}.json`);
}

export function runRecordKey(c: DropCoordinates, slotId: string, runId: string): string {
  return join(c.prefix, '_runs', c.feed, c.partner ? `partner=${c.partner}` : '', `slot=${slotId}`, `${runId}.json`);
}

export function runRecordsPrefix(prefix: string, feed?: string): string {
  return join(prefix, '_runs', feed ?? '') + '/';
}

/** Reads slot and run back out of a manifest key. */
export function parseDropKey(key: string): { slotId: string; runId: string } | undefined {
  const m = /slot=([^/]+)\/run=([^/]+)\/manifest\.json$/.exec(key);
  return m ? { slotId: m[1], runId: m[2] } : undefined;
}

/** What the SLA watch has told about one slot (its state object, written with conditional writes). */
export function slaStateKey(c: DropCoordinates, slotId: string): string {
  return join(c.prefix, '_sla', c.feed, c.partner ? `partner=${c.partner}` : '', `slot=${slotId}.json`);
}

/** Run records of one feed and partner: `<prefix>/_runs/<feed>/[partner=<id>/]`. */
export function partnerRunRecordsPrefix(c: DropCoordinates): string {
  return join(c.prefix, '_runs', c.feed, c.partner ? `partner=${c.partner}` : '') + '/';
}
