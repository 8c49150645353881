import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const version = (pkg: string) => (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

function run(command: string, args: string[], options: SpawnSyncOptions): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 240_000, ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return String(r.stdout);
}

/** A CDK app of a user, in TypeScript, that puts the construct into its own stack. */
const APP_TS = `import { App, Stack } from 'aws-cdk-lib';
import { FileExchange, loadProject, projectProps } from 'dropkit-files/cdk';

// Bundling is skipped (no esbuild here): the handlers' entries must still resolve inside the package.
const app = new App({ outdir: 'cdk.out', context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'Scratch', { env: { account: '123456789012', region: 'eu-west-1' } });
const project = loadProject('project', { localSources: false });
new FileExchange(stack, 'Exchange', { ...projectProps(project), partnerConcurrency: 2 });
app.synth();
`;

describe('the packed package', () => {
  let work: string;
  let files: string[];
  let tarball: string;
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/lambdas/plan.js'))) throw new Error('dist/ is not built: run npm run build first (npm test does)');
    work = mkdtempSync(join(tmpdir(), 'dropkit-pack-'));
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root })) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, packed.filename);
    files = packed.files.map((f) => f.path);
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is dropkit-files, public, with the built handlers and no tests or TypeScript sources', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'dropkit-files', bin: { dropkit: 'dist/bin/dropkit.js' } });
    expect(pkg.private).toBeUndefined();
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/lambdas/plan.js',
        'dist/lib/cdk.js',
        'dist/bin/dropkit.js',
        'dist/package.json',
        'schemas/manifest.v1.schema.json',
        'README.md',
      ]),
    );
    expect(files.filter((f) => /^(test|dist\/test)\//.test(f) || /\.test\.|(?<!\.d)\.ts$/.test(f))).toEqual([]);
    // DuckDB and the SDK clients are optional peers: a CDK user installs no DuckDB, a partner pulling neither.
    for (const peer of ['@duckdb/node-api', '@aws-sdk/client-s3', '@aws-sdk/client-athena']) {
      expect(pkg.dependencies[peer]).toBeUndefined();
      expect(pkg.peerDependenciesMeta[peer]).toEqual({ optional: true });
    }
  });

  it('installs offline into a scratch CDK app outside the repository, without DuckDB, and synthesizes a TypeScript stack with FileExchange', () => {
    const app = join(work, 'app');
    cpSync(join(root, 'examples/shop/dropkit.yaml'), join(app, 'project/dropkit.yaml'));
    cpSync(join(root, 'examples/shop/feeds'), join(app, 'project/feeds'), { recursive: true });
    cpSync(join(root, 'examples/shop/semantic'), join(app, 'project/semantic'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-cdk-app', private: true }));
    writeFileSync(join(app, 'app.ts'), APP_TS);
    // From the npm cache only (npm ci fills it); optional peers such as DuckDB are not installed.
    run(
      'npm',
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        tarball,
        `aws-cdk-lib@${version('aws-cdk-lib')}`,
        `constructs@${version('constructs')}`,
        `typescript@${version('typescript')}`,
      ],
      { cwd: app },
    );
    expect(existsSync(join(app, 'node_modules/@duckdb'))).toBe(false);
    // A partner who only pulls needs no DuckDB: the CLI loads each command when it runs.
    const bin = join(app, 'node_modules/dropkit-files/dist/bin/dropkit.js');
    const pull = spawnSync(process.execPath, [bin, 'pull'], { cwd: app, encoding: 'utf8' });
    expect({ status: pull.status, stderr: pull.stderr }).toEqual({ status: 2, stderr: expect.stringContaining('name the manifest.json to pull') });
    const local = spawnSync(process.execPath, [bin, 'run', 'daily_orders'], { cwd: app, encoding: 'utf8' });
    expect(local.stderr).toContain("Cannot find module '@duckdb/node-api'");
    run(
      process.execPath,
      [join(app, 'node_modules/typescript/bin/tsc'), '--strict', '--module', 'commonjs', '--target', 'es2022', '--skipLibCheck', 'app.ts'],
      {
        cwd: app,
      },
    );
    run(process.execPath, ['app.js'], { cwd: app });
    const template = JSON.parse(readFileSync(join(app, 'cdk.out/Scratch.template.json'), 'utf8'));
    const fns = Object.values<{ Type: string; Properties: { Description: string } }>(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(fns.map((f) => f.Properties.Description).sort()).toEqual(
      [
        'approve',
        'compile-stage',
        'complete-stage',
        'fail-run',
        'link-broker',
        'notify',
        'partner-authorizer',
        'plan',
        'publish',
        'push',
        'render',
        'sla-watch',
        'validate',
      ].map((n) => `dropkit: ${n}`),
    );
  }, 300_000);
});
