import { FORBIDDEN_IN_BUNDLES, LAMBDA_ENTRIES } from '../../lib/cdk/lambda-entries';
import { bundleLambda } from '../../scripts/lambda-bundles';

/** Issue 19: every handler's bundle at most 1 MB (read as 1 MiB), so its cold require stays short. */
const MAX_BUNDLE_BYTES = 1024 * 1024;

describe('the Lambda bundles', () => {
  it.each(Object.values(LAMBDA_ENTRIES))('%s bundles for Node 22 without DuckDB or the CDK in it, at most 1 MiB', async (file) => {
    // Bundled as the construct bundles it (LAMBDA_BUNDLING: minified, SDK ES modules first).
    const { text, bytes, metafile } = await bundleLambda(file);
    const inputs = Object.keys(metafile.inputs);
    expect(text.length).toBeGreaterThan(1000);
    for (const pkg of FORBIDDEN_IN_BUNDLES) {
      expect(inputs.filter((i) => i.includes(`node_modules/${pkg}/`))).toEqual([]);
      // Neither bundled nor left to be required at run time (lib/version.ts inlines package.json, so the name alone may appear).
      expect(text).not.toMatch(new RegExp(`require\\("${pkg}[/"]`));
    }
    // Manifests are checked with the zod schema the handlers already carry: no Ajv at all.
    expect(inputs.filter((i) => i.includes('node_modules/ajv'))).toEqual([]);
    // Its exported handler is there: what the Lambda runtime calls.
    expect(text).toMatch(/handler:\(\)=>[\w$]+/);
    expect(bytes).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });
});
