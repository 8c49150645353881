import type { ColumnSemantics } from '../../semantic/compile';
import type { FeedFile } from './feed-schema';

/**
 * A feed after loading and validation: the parsed file plus its SQL text per engine. Plain JSON,
 * so it can be bundled into a Lambda or passed between steps.
 */
export interface FeedDefinition {
  /** The feed file, relative to the project folder. */
  readonly file: string;
  readonly spec: FeedFile;
  /** SQL text per engine, keyed by the engine's name (its dialect's `name`): what `query.<name>` in the feed file gives. */
  readonly sql: Readonly<Record<string, string>>;
  /** The SQL file of each engine, relative to the feed file, keyed as `sql`. */
  readonly sqlFiles: Readonly<Record<string, string>>;
  /**
   * For a feed written as a metric selection (`select:`): what each column is, and the metrics it
   * serves. Its SQL above is compiled from the semantic layer.
   */
  readonly semantics?: { readonly metrics: readonly string[]; readonly columns: readonly ColumnSemantics[] };
  /** The schedule as EventBridge Scheduler will run it. */
  readonly eventBridgeCron: string;
}

/** A project's local source (`sources:` in the project file) once loaded: what a local engine reads as a table. */
export interface LocalSource {
  /** Absolute path or glob. */
  readonly path: string;
  readonly format: 'csv' | 'parquet';
}

/** Partners a run is made for: one shared run (null), or one per partner. */
export function deliveryPartners(feed: FeedDefinition): (string | null)[] {
  return feed.spec.delivery === 'per-partner' ? feed.spec.partners.map((p) => p.id) : [null];
}
