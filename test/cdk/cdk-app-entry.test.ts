import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../lib/core/errors';
import { FileExchangeStack } from '../../lib/cdk/file-exchange-stack';
import { deployedFeed } from '../../lib/core/destinations/deployable';
import { loadProject } from '../../lib/project/load-project';
import { bundledSynth, functionBundles, synthApp } from '../helpers/bundled-synth';
import { tempProject, TempProject } from '../helpers/temp-project';
import { LAMBDA_ENTRIES } from '../../lib/cdk/lambda-entries';
import { testApp } from './cdk-app';

const ROOT = join(__dirname, '../..');

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

  it('bin/cdk.ts synthesizes the example project by default, saying nothing but what esbuild bundled', () => {
    // The run's one bundled synth (context {}): a second synth only to skip bundling would cost as much again.
    const result = bundledSynth();
    const bundlingReport = /^(Bundling asset .*|\s+\S+\s+[\d.]+[km]?b|⚡ Done in \d+ms|)$/;
    expect(result.stderr.split('\n').filter((line) => !bundlingReport.test(line))).toEqual([]);
    expect(result.status).toBe(0);
    expect(result.templates).toEqual(['Dropkit.template.json']);
  });

  it("bundles every function offline with the project's feeds beside it", () => {
    // The one bundled synth of the run, which the bundle tests read too.
    const result = bundledSynth();
    expect(result.status).toBe(0);
    const bundles = functionBundles(result);
    expect(bundles.map((b) => b.file).sort()).toEqual(Object.values(LAMBDA_ENTRIES).sort());
    // As deployed: the example's local-folder destination is left out (development only).
    const feeds = JSON.parse(JSON.stringify(loadProject(join(ROOT, 'examples/shop'), { localSources: false }).feeds.map((f) => deployedFeed(f).feed)));
    for (const bundle of bundles) {
      expect(JSON.parse(readFileSync(join(bundle.dir, 'feeds.json'), 'utf8'))).toEqual({ feeds });
      expect(bundle.text).not.toMatch(/require\("(@duckdb\/node-api|aws-cdk-lib)/);
    }
  });
});
