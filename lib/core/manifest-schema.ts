import { DropkitError } from './errors';
import type { Manifest } from './manifest';
import { manifestSchema } from './manifest-zod';
import { jsonProblems } from './store-json';

export { latestPointerSchema, manifestSchema, manifestSchemaDocument } from './manifest-zod';

/** Every manifest is checked against the published schema before it is written, and by partners' `dropkit pull`. */
export function manifestProblems(manifest: unknown): string[] {
  const checked = manifestSchema.safeParse(manifest);
  return checked.success ? [] : jsonProblems(manifest, checked.error.issues);
}

export function assertValidManifest(manifest: Manifest): void {
  const problems = manifestProblems(manifest);
  if (problems.length) throw new DropkitError(`manifest does not match schemas/manifest.v1.schema.json: ${problems.join('; ')}`);
}

const listedEngines = manifestSchema.shape.query.shape.engine;

/**
 * The manifest's `query.engine` for an engine's name. Partners read the schema's list of engines,
 * so an engine registered in lib/engines.ts must be listed there too (docs/adding-an-engine.md).
 */
export function manifestEngine(name: string): Manifest['query']['engine'] {
  const listed = listedEngines.safeParse(name);
  if (listed.success) return listed.data;
  throw new DropkitError(
    `the manifest schema's query.engine does not list the engine ${JSON.stringify(name)} (it lists ${listedEngines.options.join(', ')}): ` +
      'add it to query.engine in lib/core/manifest-zod.ts and run `npm run schemas`',
  );
}
