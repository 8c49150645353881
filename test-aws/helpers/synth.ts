import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import { FileExchange } from '../../lib/cdk/file-exchange';
import { loadProject } from '../../lib/project/load-project';
import { EXAMPLE, exampleStack } from '../../test/cdk/cdk-app';

/** An app writing to a fresh cdk.out-like folder; Lambda bundling skipped (the bundles are tested apart). */
function app(): App {
  return new App({ outdir: mkdtempSync(join(tmpdir(), 'dropkit-cdk-out-')), context: { 'aws:cdk:bundling-stacks': [] } });
}

/** `n` feeds made from the example's feeds, renamed feed_000 … (as the scale test does). */
export function manyFeeds(n: number): FeedDefinition[] {
  const base = loadProject(EXAMPLE, { localSources: false }).feeds;
  return Array.from({ length: n }, (_, i) => {
    const f = base[i % base.length]!;
    const name = `feed_${String(i).padStart(3, '0')}`;
    return { ...f, file: `feeds/${name}.yaml`, spec: { ...f.spec, name } };
  });
}

export interface Synthesized {
  readonly outdir: string;
  /** Every template written, nested stacks' included. */
  readonly templates: string[];
}

function synth(a: App): Synthesized {
  const assembly = a.synth();
  const templates = readdirSync(assembly.directory)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => join(assembly.directory, f));
  return { outdir: assembly.directory, templates };
}

/** The example project's FileExchangeStack, as `cdk synth` writes it. */
export function synthExample(): Synthesized {
  const a = app();
  exampleStack(a);
  return synth(a);
}

/** A 200-feed project: the per-feed resources go to nested stacks. */
export function synthBig(): Synthesized {
  const a = app();
  const stack = new Stack(a, 'Big', { env: { account: '123456789012', region: 'eu-west-1' } });
  new FileExchange(stack, 'Exchange', { feeds: manyFeeds(200) });
  return synth(a);
}
