import { pattern } from '../core/layout';

/**
 * Key patterns of the drops bucket, from lib/core/layout.ts `pattern`, for IAM policies. The project's feeds
 * all sit under one prefix, so a role is scoped to the kind of object it touches (drops, leases,
 * run records, staging, query results) without listing feeds (a policy naming 200 feeds would
 * outgrow IAM's size limits). IAM's `*` also matches `/`: the patterns say what each role needs,
 * as narrowly as the layout lets them.
 */
export interface KeyScopes {
  /** Published drops and pointers: `pattern.dropFiles` and `pattern.latest`. */
  readonly drops: readonly string[];
  readonly dropFiles: string;
  readonly latest: string;
  readonly leases: string;
  readonly runs: string;
  /** What the SLA watch saw and told, per slot. */
  readonly sla: string;
  /** Drops held for sign-off (lib/core/approval): the hold, its task token and the decision. */
  readonly approvals: string;
  readonly staging: string;
  /** Destinations' own state (what was sent, change sets, dead letters). */
  readonly deliveries: string;
  /** Athena's query results (outside the project's prefix). */
  readonly results: string;
  /** The project's prefix, for ListBucket conditions. */
  readonly listPrefix: string;
}

/** `prefix` is the layout's prefix ('' or e.g. `drops`); Athena's results sit beside it. */
export function keyScopes(prefix: string): KeyScopes {
  return {
    drops: [pattern.dropFiles(prefix), pattern.latest(prefix)],
    dropFiles: pattern.dropFiles(prefix),
    latest: pattern.latest(prefix),
    leases: pattern.leases(prefix),
    runs: pattern.runs(prefix),
    sla: pattern.sla(prefix),
    approvals: pattern.approvals(prefix),
    staging: pattern.staging(prefix),
    deliveries: pattern.deliveries(prefix),
    results: pattern.athenaResults(),
    listPrefix: pattern.everything(prefix),
  };
}
