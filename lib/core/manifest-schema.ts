import type { ValidateFunction } from 'ajv';
import { DropkitError } from './errors';
import type { Manifest } from './manifest';
import compiledValidator from './manifest-validator.generated';

// The schema compiled ahead of time (`npm run schemas`, scripts/manifest-validator.ts): Ajv's
// compiler would add ~150 KB to every Lambda bundle and ~100 ms to its cold start.
const validateManifest = compiledValidator as ValidateFunction;

/** Every manifest is checked against the published schema before it is written. */
export function manifestProblems(manifest: unknown): string[] {
  if (validateManifest(manifest)) return [];
  return (validateManifest.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

export function assertValidManifest(manifest: Manifest): void {
  const problems = manifestProblems(manifest);
  if (problems.length) throw new DropkitError(`manifest does not match schemas/manifest.v1.schema.json: ${problems.join('; ')}`);
}
