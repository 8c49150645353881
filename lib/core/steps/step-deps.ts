import type { Clock } from '../ports/clock';
import type { LinkSigner } from '../ports/link-signer';
import type { Notifier } from '../ports/notifier';
import type { ObjectStore } from '../ports/object-store';
import type { DestinationRecord } from '../ports/destination';
import type { QueryEngine } from '../ports/query-engine';
import type { FeedDefinition } from '../feed/feed-definition';
import type { AttemptLease, LeaseOptions } from '../lease';
import type { DeliveredRef } from './run-plan';

/**
 * What the steps run on. Each step takes only the part it needs; the local runner builds all of it
 * once, a Lambda handler builds its part once per container.
 */
export interface StepDeps {
  readonly store: ObjectStore;
  readonly clock: Clock;
  /** The project's feeds by name (validated when loaded). */
  readonly feeds: FeedCatalog;
  readonly engine: QueryEngine;
  readonly signer: LinkSigner;
  /** Who hears of a delivered drop of this feed (and partner). */
  readonly consumers: (feed: FeedDefinition, partner: string | null) => readonly Notifier[];
  /** Who hears of a failed run. */
  readonly operators: readonly Notifier[];
  readonly lease: LeaseOptions;
  /** A fresh attempt id (random): attempts of the same run never share a staging prefix. */
  readonly newAttemptId: () => string;
  /**
   * Pushes a delivered drop to the feed's and partner's destinations (records in the run record;
   * resumable): the step graph's push nodes call it. Only the push Lambda builds it on AWS; a feed
   * with destinations on an edge without it fails its push node (an operator alert). With `lease`
   * it renews the attempt's lease as it goes and stops once another attempt owns the slot.
   */
  readonly push?: (ref: DeliveredRef, feed: FeedDefinition, lease?: AttemptLease) => Promise<readonly DestinationRecord[]>;
}

export interface FeedCatalog {
  get(name: string): FeedDefinition;
}

/** A catalog over loaded feeds that names the known ones when asked for another. */
export function feedCatalog(feeds: readonly FeedDefinition[]): FeedCatalog {
  const byName = new Map(feeds.map((f) => [f.spec.name, f]));
  return {
    get(name) {
      const feed = byName.get(name);
      if (!feed) throw new Error(`no feed named "${name}" in this project (feeds: ${[...byName.keys()].join(', ')})`);
      return feed;
    },
  };
}

/** Lease time-to-live when nobody says otherwise: long enough for a slow step between renewals. */
export const DEFAULT_LEASE_TTL_SECONDS = 3600;
