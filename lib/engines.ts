import { athenaDialect } from './adapters/athena/athena-dialect';
import { duckdbDialect } from './adapters/duckdb/duckdb-dialect';
import type { SemanticDialect } from './semantic/dialect';

/**
 * The engine registry: every engine dropkit knows, by the name users write (`query.<name>` in a
 * feed file, `--engine`, the manifest's `query.engine`), with its SQL dialect. Adding an engine is
 * its adapter folder plus one line here (docs/adding-an-engine.md). Dialects are pure SQL text,
 * so listing one here pulls in no engine driver or SDK.
 */
export const ENGINE_DIALECTS = {
  duckdb: duckdbDialect,
  athena: athenaDialect,
} as const satisfies Record<string, SemanticDialect>;

export type RegisteredEngine = keyof typeof ENGINE_DIALECTS;

/** Every registered engine's name, in the order above. */
export const ENGINE_NAMES = Object.keys(ENGINE_DIALECTS) as RegisteredEngine[];

/** The dialect of a registered engine; a clear error naming the known ones for any other name. */
export function engineDialect(name: string): SemanticDialect {
  if (Object.hasOwn(ENGINE_DIALECTS, name)) return ENGINE_DIALECTS[name as RegisteredEngine];
  throw new RangeError(`${JSON.stringify(name)} is not an engine dropkit knows; use one of ${ENGINE_NAMES.join(', ')} (lib/engines.ts lists them)`);
}
