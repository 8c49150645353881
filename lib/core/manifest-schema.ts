import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import manifestSchema from '../../schemas/manifest.v1.schema.json';
import { DropkitError } from './errors';
import type { Manifest } from './manifest';

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);
const validateManifest = ajv.compile(manifestSchema);

/** Every manifest is checked against the published schema before it is written. */
export function manifestProblems(manifest: unknown): string[] {
  if (validateManifest(manifest)) return [];
  return (validateManifest.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

export function assertValidManifest(manifest: Manifest): void {
  const problems = manifestProblems(manifest);
  if (problems.length) throw new DropkitError(`manifest does not match schemas/manifest.v1.schema.json: ${problems.join('; ')}`);
}
