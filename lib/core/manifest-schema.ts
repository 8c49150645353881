import type * as z from 'zod';
import { DropkitError } from './errors';
import type { LatestPointer, Manifest } from './manifest';
import { latestPointerSchema, manifestSchema } from './manifest-zod';
import { jsonProblems } from './store-json';

export { latestPointerSchema, manifestSchema, manifestSchemaDocument } from './manifest-zod';

// A parsed manifest or pointer is of its TypeScript type (this fails to compile when they drift).
// The other way round the types are looser (e.g. `query.engine: string`, the schema lists the
// engines): publish checks each manifest against the schema before writing it.
type Mutable<T> = T extends readonly (infer U)[] ? Mutable<U>[] : T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;
const manifestParsesAsManifest: z.output<typeof manifestSchema> extends Manifest ? true : false = true;
const pointerTypeAgrees: [Mutable<LatestPointer>, z.output<typeof latestPointerSchema>] extends [z.output<typeof latestPointerSchema>, Mutable<LatestPointer>]
  ? true
  : false = true;
void [manifestParsesAsManifest, pointerTypeAgrees];

/** Every manifest is checked against the published schema before it is written, and by partners' `dropkit pull`. */
export function manifestProblems(manifest: unknown): string[] {
  const checked = manifestSchema.safeParse(manifest);
  return checked.success ? [] : jsonProblems(manifest, checked.error.issues);
}

export function assertValidManifest(manifest: Manifest): void {
  const problems = manifestProblems(manifest);
  if (problems.length) throw new DropkitError(`manifest does not match schemas/manifest.v1.schema.json: ${problems.join('; ')}`);
}
