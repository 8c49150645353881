import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { LAMBDA_BUNDLING, LAMBDA_ENTRIES } from '../lib/cdk/lambda-entries';

const ROOT = join(__dirname, '..').replace(/[\\/]dist$/, '');

export interface LambdaBundle {
  readonly file: string;
  readonly text: string;
  /** Bytes of the bundled JavaScript (what `require` parses), from the metafile. */
  readonly bytes: number;
  readonly metafile: Metafile;
}

/** Bundles a handler with the options the construct gives NodejsFunction (LAMBDA_BUNDLING). */
export async function bundleLambda(file: string): Promise<LambdaBundle> {
  const result = await build({
    entryPoints: [join(ROOT, 'lambdas', `${file}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    outfile: join(ROOT, 'out', `${file}.js`),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))!;
  const output = Object.entries(result.metafile.outputs).find(([k]) => k.endsWith('.js'))![1];
  return { file, text: js.text, bytes: output.bytes, metafile: result.metafile };
}

/** Median of fresh `node -e "require(bundle)"` processes, less an empty node's start-up: the cold require alone. */
export function coldRequireMs(path: string, runs: number): number {
  const time = (script: string) => {
    const r = spawnSync(
      process.execPath,
      ['-e', `const t=process.hrtime.bigint();${script};process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`],
      {
        encoding: 'utf8',
        // Outside Lambda the tracer is off anyway; the environment a handler reads at require time.
        env: { ...process.env, AWS_REGION: 'eu-west-1', POWERTOOLS_TRACE_ENABLED: 'false' },
      },
    );
    if (r.status !== 0) throw new Error(`require(${path}) failed: ${r.stderr}`);
    return Number(r.stdout);
  };
  const ms = Array.from({ length: runs }, () => time(`require(${JSON.stringify(path)})`)).sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

/** `node dist/scripts/lambda-bundles.js [--runs N]`: size and cold require of every handler's bundle. */
export async function lambdaBench(runs: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dropkit-lambdas-'));
  try {
    const rows: string[] = [];
    for (const file of Object.values(LAMBDA_ENTRIES)) {
      const b = await bundleLambda(file);
      const path = join(dir, `${file}.js`);
      writeFileSync(path, b.text);
      rows.push(`${file.padEnd(20)} ${(b.bytes / 1024).toFixed(0).padStart(8)} ${coldRequireMs(path, runs).toFixed(1).padStart(12)}`);
    }
    return [
      `Lambda bundles (minified, node22 CJS; cold require = median of ${runs} fresh node processes)`,
      `${'handler'.padEnd(20)} ${'KiB'.padStart(8)} ${'require ms'.padStart(12)}`,
      ...rows,
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 7;
  lambdaBench(runs).then(
    (t) => process.stdout.write(t + '\n'),
    (e: unknown) => {
      process.stderr.write(`lambda bench: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
