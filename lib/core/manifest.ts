import type * as z from 'zod';
import type { latestPointerSchema, manifestSchema } from './manifest-zod';

/** Readonly all the way down: a parsed or built manifest is a record, never edited in place. */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * Manifest version 1 (DESIGN.md): the type of what `manifestSchema` (manifest-zod.ts, the one
 * definition; `schemas/manifest.v1.schema.json` is generated from it) parses.
 */
export type Manifest = DeepReadonly<z.output<typeof manifestSchema>>;
/** One data file of a drop; `path` is relative to the manifest. */
export type ManifestFile = Manifest['files'][number];
/** The slot a drop covers: its tick, data interval and the schedule it came from. */
export type SlotInfo = Manifest['slot'];
export type ValidationStatus = Manifest['validation']['status'];
/** The manifest's `delivery` section. */
export type ManifestDelivery = NonNullable<Manifest['delivery']>;
/** One destination of the drop, as the feed said at the commit point. */
export type ManifestDestination = ManifestDelivery['destinations'][number];
/** `latest.json`: the pointer to the newest delivered manifest of a feed (and partner). */
export type LatestPointer = DeepReadonly<z.output<typeof latestPointerSchema>>;

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
