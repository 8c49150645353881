/**
 * Key patterns of the drops bucket, per lib/core/layout.ts, for IAM policies. The project's feeds
 * all sit under one prefix, so a role is scoped to the kind of object it touches (drops, leases,
 * run records, staging, query results) without listing feeds (a policy naming 200 feeds would
 * outgrow IAM's size limits). IAM's `*` also matches `/`: the patterns say what each role needs,
 * as narrowly as the layout lets them.
 */
export interface KeyScopes {
  /** Published drops and pointers: `<p>/<feed>/[partner=…/]slot=…/run=…/…` and `latest.json`. */
  readonly drops: readonly string[];
  readonly dropFiles: string;
  readonly latest: string;
  readonly leases: string;
  readonly runs: string;
  /** What the SLA watch saw and told, per slot. */
  readonly sla: string;
  /** What destinations were sent, per run and destination (records, change sets, dead letters). */
  readonly deliveries: string;
  readonly staging: string;
  /** Athena's query results (outside the project's prefix). */
  readonly results: string;
  /** The project's prefix, for ListBucket conditions. */
  readonly listPrefix: string;
}

/** `prefix` is the layout's prefix ('' or e.g. `drops`); the results prefix sits beside it. */
export function keyScopes(prefix: string, resultsPrefix: string): KeyScopes {
  const p = prefix ? `${prefix}/` : '';
  return {
    drops: [`${p}*/slot=*/run=*/*`, `${p}*/latest.json`],
    dropFiles: `${p}*/slot=*/run=*/*`,
    latest: `${p}*/latest.json`,
    leases: `${p}_leases/*`,
    runs: `${p}_runs/*`,
    sla: `${p}_sla/*`,
    deliveries: `${p}_deliveries/*`,
    staging: `${p}_staging/*`,
    results: `${resultsPrefix}*`,
    listPrefix: `${p}*`,
  };
}
