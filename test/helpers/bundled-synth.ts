import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '../..');

/** What decides the bundles: the code they are built from, the example project beside them, and the installed packages. */
const INPUTS = ['bin', 'lib', 'lambdas', 'examples/shop/dropkit.yaml', 'examples/shop/feeds', 'examples/shop/semantic', 'package-lock.json', 'tsconfig.json'];

export interface SynthResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outdir: string;
  readonly templates: string[];
}

/** Runs bin/cdk.ts as `cdk synth` does (context in CDK_CONTEXT_JSON); bundling skipped unless asked. */
export function synthApp(context: Record<string, unknown>, options: { bundle?: boolean; outdir?: string } = {}): SynthResult {
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'dropkit-cdkout-'));
  mkdirSync(outdir, { recursive: true });
  const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bin/cdk.ts')], {
    cwd: ROOT,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(options.bundle ? context : { ...context, 'aws:cdk:bundling-stacks': [] }), CDK_OUTDIR: outdir },
    encoding: 'utf8',
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    outdir,
    templates: readdirSync(outdir).filter((f) => f.endsWith('.template.json')),
  };
}

/** A hash of every input file's path and bytes: a change anywhere means bundling again. */
export function inputsHash(): string {
  const hash = createHash('sha256');
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
      return;
    }
    hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  };
  for (const input of INPUTS) visit(join(ROOT, input));
  return hash.digest('hex').slice(0, 16);
}

const CACHE = join(ROOT, 'node_modules', '.cache', 'dropkit-tests');

/**
 * The example project synthesized once with every Lambda bundled, as `cdk synth` does it, shared by
 * every test that looks at a bundle: the first test to ask builds it, the others (in this run, in
 * any worker, and in later runs while the inputs are unchanged) read it. Bundling the same eleven
 * functions in several suites was much of `npm test`'s time.
 */
export function bundledSynth(): SynthResult {
  const dir = join(CACHE, `bundled-synth-${inputsHash()}`);
  const record = join(dir, 'result.json');
  const lock = `${dir}.lock`;
  mkdirSync(CACHE, { recursive: true });
  for (;;) {
    if (existsSync(record)) return JSON.parse(readFileSync(record, 'utf8')) as SynthResult;
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another worker is bundling: wait for it, unless it died holding the lock.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    const building = `${dir}-building`;
    rmSync(building, { recursive: true, force: true });
    const result = synthApp({}, { bundle: true, outdir: join(building, 'cdk.out') });
    if (result.status !== 0) return result; // not kept: the test that reads it reports the failure
    // Entries of other inputs are stale: only the newest is kept.
    for (const old of readdirSync(CACHE)) {
      if (old.startsWith('bundled-synth-') && join(CACHE, old) !== building && join(CACHE, old) !== lock)
        rmSync(join(CACHE, old), { recursive: true, force: true });
    }
    const shared = { ...result, outdir: join(dir, 'cdk.out') };
    writeFileSync(join(building, 'result.json'), JSON.stringify(shared));
    renameSync(building, dir);
    return shared;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface FunctionBundle {
  /** The handler's file under `lambdas/`, from the function's description (`dropkit: <file>`). */
  readonly file: string;
  readonly dir: string;
  readonly text: string;
  readonly bytes: number;
  /** The files esbuild took code from (the source map's `sources`). */
  readonly sources: string[];
}

/** Each Lambda function of the bundled example stack with its bundle. */
export function functionBundles(synth: SynthResult = bundledSynth()): FunctionBundle[] {
  const template = JSON.parse(readFileSync(join(synth.outdir, 'Dropkit.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: any }>;
  };
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((fn) => {
      const dir = join(synth.outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
      const text = readFileSync(join(dir, 'index.js'), 'utf8');
      const map = existsSync(join(dir, 'index.js.map'))
        ? (JSON.parse(readFileSync(join(dir, 'index.js.map'), 'utf8')) as { sources: string[] })
        : { sources: [] };
      return { file: String(fn.Properties.Description).replace(/^dropkit: /, ''), dir, text, bytes: Buffer.byteLength(text), sources: map.sources };
    });
}
