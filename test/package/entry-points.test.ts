import { build, Metafile } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Every module a bundle of `entry` pulls in, and every import it leaves to the runtime. */
async function bundleOf(entry: string): Promise<{ inputs: string[]; externals: string[] }> {
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: 'out.js',
  });
  const meta: Metafile = result.metafile;
  const inputs = Object.keys(meta.inputs);
  const externals = Object.values(meta.inputs).flatMap((i) => i.imports.filter((x) => x.external).map((x) => x.path));
  return { inputs, externals };
}

describe('the dropkit entry point (core)', () => {
  let bundle: { inputs: string[]; externals: string[] };
  beforeAll(async () => {
    bundle = await bundleOf('lib/index.ts');
  }, 60_000);

  it('bundles without DuckDB, the AWS CDK or an AWS SDK', () => {
    expect(bundle.inputs.filter((p) => /@duckdb|aws-cdk-lib|@aws-sdk|constructs/.test(p))).toEqual([]);
    expect(bundle.externals.filter((p) => /@duckdb|aws-cdk-lib|@aws-sdk/.test(p))).toEqual([]);
  });

  it('does no file I/O: nothing from node:fs or child_process', () => {
    expect(bundle.externals.filter((p) => /^(node:)?(fs|fs\/promises|child_process)$/.test(p))).toEqual([]);
  });

  it('holds the steps and the ports, not the CLI or the local runner', () => {
    expect(bundle.inputs.some((p) => p.endsWith('lib/core/steps/publish.ts'))).toBe(true);
    expect(bundle.inputs.filter((p) => /lib\/(cli|runner|adapters)\//.test(p))).toEqual([]);
  });
});

describe('the package exports', () => {
  it('resolves dropkit-files and dropkit-files/local to the built entry points', () => {
    expect(require.resolve('dropkit-files', { paths: [root] })).toBe(join(root, 'dist/lib/index.js'));
    expect(require.resolve('dropkit-files/local', { paths: [root] })).toBe(join(root, 'dist/lib/local.js'));
  });

  it('dropkit-files/local brings the embedded engine and the runner', () => {
    const local = require(join(root, 'dist/lib/local.js'));
    expect(typeof local.DuckDbEngine.open).toBe('function');
    expect(typeof local.runSlot).toBe('function');
  });
});

describe('the dependency rule (eslint, in npm test)', () => {
  /** ESLint as `npm test` runs it, over one file's text. */
  async function lint(filePath: string, text: string): Promise<string[]> {
    const r = spawnSync(process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', filePath, '--format', 'json'], {
      cwd: root,
      input: text,
      encoding: 'utf8',
    });
    const [result] = JSON.parse(r.stdout) as { messages: { ruleId: string; message: string }[] }[];
    return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
  }

  it('stops core from importing an adapter, the file system or an SDK', async () => {
    const messages = await lint(
      'lib/core/steps/bad.ts',
      `import { readFile } from 'node:fs/promises';\nimport { LocalStore } from '../../adapters/local/local-store';\nimport { S3Client } from '@aws-sdk/client-s3';\nexport const x = [readFile, LocalStore, S3Client];\n`,
    );
    expect(messages.filter((m) => m.startsWith('@typescript-eslint/no-restricted-imports'))).toHaveLength(3);
  }, 60_000);

  it('holds the ports in core to the same rule, and lets adapters import core but no edge', async () => {
    expect(await lint('lib/core/ports/bad.ts', `import { LocalStore } from '../../adapters/local/local-store';\nexport const x = LocalStore;\n`)).toHaveLength(
      1,
    );
    expect(
      await lint('lib/adapters/local/bad.ts', `import type { ObjectStore } from '../../core/ports/object-store';\nexport type X = ObjectStore;\n`),
    ).toEqual([]);
    const edges = await lint(
      'lib/adapters/local/bad.ts',
      `import { main } from '../../cli/main';\nimport { FileExchange } from '../../cdk/file-exchange';\nimport { runSlot } from '../../runner/run-slot';\nexport const x = [main, FileExchange, runSlot];\n`,
    );
    expect(edges.filter((m) => m.startsWith('@typescript-eslint/no-restricted-imports'))).toHaveLength(3);
  }, 60_000);
});
