import type * as z from 'zod';
import { DropkitError } from '../../lib/core/errors';
import type { LatestPointer, Manifest } from '../../lib/core/manifest';
import { latestPointerSchema, manifestEngine, manifestSchema } from '../../lib/core/manifest-schema';
import { ENGINE_NAMES } from '../../lib/engines';
import { validManifest } from '../helpers/manifest-fixture';

// The TypeScript types are the schema's output, made readonly: each way round, so `tsc` (npm test)
// fails as soon as a hand-written type drifts from the schema again.
type Mutable<T> = T extends readonly (infer U)[] ? Mutable<U>[] : T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;
type Same<A, B> = [A, B] extends [B, A] ? true : false;
const manifestIsTheSchema: Same<Mutable<Manifest>, z.output<typeof manifestSchema>> = true;
const pointerIsTheSchema: Same<Mutable<LatestPointer>, z.output<typeof latestPointerSchema>> = true;

describe('the Manifest type', () => {
  it('is what the schema parses (checked by tsc), and a manifest the code builds parses as one', () => {
    expect([manifestIsTheSchema, pointerIsTheSchema]).toEqual([true, true]);
    const manifest: Manifest = validManifest([{ path: 'part-00000.csv', format: 'csv', compression: 'none', rows: 1, bytes: 10, sha256: 'a'.repeat(64) }]);
    const parsed: Manifest = manifestSchema.parse(manifest);
    expect(parsed).toEqual(manifest);
  });
});

describe('manifestEngine', () => {
  it('lists every registered engine, as partners read the schema', () => {
    for (const name of ENGINE_NAMES) expect(manifestEngine(name)).toBe(name);
  });

  it('refuses an engine the schema does not list, naming it, the listed ones and the fix', () => {
    expect(() => manifestEngine('trino')).toThrow(DropkitError);
    expect(() => manifestEngine('trino')).toThrow(
      'the manifest schema\'s query.engine does not list the engine "trino" (it lists duckdb, athena): add it to query.engine in lib/core/manifest-zod.ts and run `npm run schemas`',
    );
  });
});
