import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../lib/core/errors';
import { FileExchangeStack } from '../../lib/cdk/file-exchange-stack';
import { loadProject } from '../../lib/project/load-project';
import { tempProject, TempProject } from '../helpers/temp-project';
import { testApp } from './cdk-app';

const ROOT = join(__dirname, '../..');

/** Runs bin/cdk.ts as `cdk synth` does (context in CDK_CONTEXT_JSON), bundling skipped. */
function synthApp(context: Record<string, unknown>, options: { bundle?: boolean } = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'dropkit-cdkout-'));
  const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bin/cdk.ts')], {
    cwd: ROOT,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(options.bundle ? context : { ...context, 'aws:cdk:bundling-stacks': [] }), CDK_OUTDIR: outdir },
    encoding: 'utf8',
  });
  return { ...result, outdir, templates: readdirSync(outdir).filter((f) => f.endsWith('.template.json')) };
}

describe('synthesizing a project folder', () => {
  let bad: TempProject;
  beforeAll(() => {
    bad = tempProject({
      'dropkit.yaml': 'name: bad\n',
      'feeds/daily.yaml':
        'name: Daily\ndescription: d\nowner: o\nschedule: { cron: "0 6 * *", timezone: Mars/Base }\nsla: { deliverWithin: PT1H }\nformats: { csv: {} }\n',
      'feeds/daily.sql': 'SELECT 1 AS x\n',
    });
  });
  afterAll(() => bad.cleanup());

  it('fails on an invalid feed with the problems dropkit check reports', () => {
    let checkError: ConfigError | undefined;
    try {
      loadProject(bad.dir);
    } catch (e) {
      checkError = e as ConfigError;
    }
    expect(checkError).toBeInstanceOf(ConfigError);
    expect(() => new FileExchangeStack(testApp(), 'Bad', { projectDir: bad.dir })).toThrow(checkError!.message);
  });

  it('bin/cdk.ts exits 2 with the same messages and writes no template', () => {
    const result = synthApp({ project: bad.dir });
    expect(result.status).toBe(2);
    expect(result.templates).toEqual([]);
    expect(result.stderr).toContain(`dropkit: cannot synthesize ${bad.dir}`);
    expect(result.stderr).toContain('feeds/daily.yaml: name: feed names are lower-case letters');
  });

  it('bin/cdk.ts synthesizes the example project by default', () => {
    const result = synthApp({});
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.templates).toEqual(['Dropkit.template.json']);
  });

  it("bundles every function offline with the project's feeds beside it", () => {
    const result = synthApp({}, { bundle: true });
    expect(result.status).toBe(0);
    const template = JSON.parse(readFileSync(join(result.outdir, 'Dropkit.template.json'), 'utf8'));
    const fns = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(fns).toHaveLength(12);
    const feeds = JSON.parse(JSON.stringify(loadProject(join(ROOT, 'examples/shop'), { localSources: false }).feeds));
    for (const fn of fns) {
      const asset = join(result.outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
      expect(existsSync(join(asset, 'index.js'))).toBe(true);
      expect(JSON.parse(readFileSync(join(asset, 'feeds.json'), 'utf8'))).toEqual({ feeds });
      expect(readFileSync(join(asset, 'index.js'), 'utf8')).not.toMatch(/require\("(@duckdb\/node-api|aws-cdk-lib)/);
    }
  });
});
