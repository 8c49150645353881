import { FORBIDDEN_IN_BUNDLES, LAMBDA_ENTRIES } from '../../lib/cdk/lambda-entries';
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
    // Manifests are checked with the zod schema the handlers already carry: no Ajv at all.
    expect(sources.filter((i) => i.includes('node_modules/ajv'))).toEqual([]);
    // Its exported handler is there: what the Lambda runtime calls.
    expect(text).toMatch(/handler:\(\)=>[\w$]+/);
    expect(bytes).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });
});
