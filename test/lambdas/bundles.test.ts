import { join } from 'node:path';
import { build } from 'esbuild';
import { FORBIDDEN_IN_BUNDLES, LAMBDA_ENTRIES } from '../../lib/cdk/lambda-entries';

const ROOT = join(__dirname, '../..');

/** Bundles a handler as the construct does (esbuild, node22, CommonJS, everything inlined). */
async function bundle(file: string) {
  const result = await build({
    entryPoints: [join(ROOT, 'lambdas', `${file}.ts`)],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { text: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs) };
}

describe('the Lambda bundles', () => {
  it.each(Object.values(LAMBDA_ENTRIES))('%s bundles for Node 22 without DuckDB or the CDK in it', async (file) => {
    const { text, inputs } = await bundle(file);
    expect(text.length).toBeGreaterThan(1000);
    for (const pkg of FORBIDDEN_IN_BUNDLES) {
      expect(inputs.filter((i) => i.includes(`node_modules/${pkg}/`))).toEqual([]);
      // Neither bundled nor left to be required at run time (lib/version.ts inlines package.json, so the name alone may appear).
      expect(text).not.toMatch(new RegExp(`require\\("${pkg}[/"]`));
    }
    // Its exported handler is there: what the Lambda runtime calls.
    expect(text).toMatch(/handler: \(\) => handler/);
  });
});
