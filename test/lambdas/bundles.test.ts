import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FORBIDDEN_IN_BUNDLES, LAMBDA_ENTRIES } from '../../lib/cdk/lambda-entries';
import { MANIFEST_VALIDATOR_FILE, manifestValidatorCode } from '../../scripts/manifest-validator';
import { functionBundles } from '../helpers/bundled-synth';

/** Issue 19: every handler's bundle at most 1 MB (read as 1 MiB), so its cold require stays short. */
const MAX_BUNDLE_BYTES = 1024 * 1024;

describe('the Lambda bundles', () => {
  // The bundles the construct deploys (LAMBDA_BUNDLING: minified, SDK ES modules first), from the run's one bundled synth.
  const bundles = new Map(functionBundles().map((b) => [b.file, b]));

  it.each(Object.values(LAMBDA_ENTRIES))('%s bundles for Node 22 without DuckDB or the CDK in it, at most 1 MiB', (file) => {
    const { text, bytes, sources } = bundles.get(file)!;
    expect(text.length).toBeGreaterThan(1000);
    expect(sources.length).toBeGreaterThan(10);
    for (const pkg of FORBIDDEN_IN_BUNDLES) {
      expect(sources.filter((i) => i.includes(`node_modules/${pkg}/`))).toEqual([]);
      // Neither bundled nor left to be required at run time (lib/version.ts inlines package.json, so the name alone may appear).
      expect(text).not.toMatch(new RegExp(`require\\("${pkg}[/"]`));
    }
    // Ajv's compiler stays out: the manifest schema is compiled ahead of time.
    expect(sources.filter((i) => /node_modules\/ajv\/dist\/(compile|core|2020)/.test(i))).toEqual([]);
    // Its exported handler is there: what the Lambda runtime calls.
    expect(text).toMatch(/handler:\(\)=>[\w$]+/);
    expect(bytes).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });

  it('the compiled manifest validator is the one the schema makes (run `npm run schemas` after changing it)', () => {
    expect(readFileSync(join(__dirname, '../..', MANIFEST_VALIDATOR_FILE), 'utf8')).toBe(manifestValidatorCode());
  });
});
