import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { FileExchange } from '../../lib/cdk/file-exchange';
import { ENV, ENV_NOT_SET_BY_CONSTRUCT } from '../../lib/core/deploy-contract';
import { loadProject } from '../../lib/project/load-project';
import { EXAMPLE, testApp } from './cdk-app';

const ROOT = join(__dirname, '../..');
const sources = (dir: string) =>
  readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: `${dir}/${f}`, text: readFileSync(join(ROOT, dir, f), 'utf8') }));

/** The variables the handlers read, by the `ENV.<name>` each one uses (they read no other name). */
function readByHandlers(): Set<string> {
  const names = new Set<string>();
  for (const { text } of sources('lambdas')) for (const m of text.matchAll(/\bENV\.(\w+)/g)) names.add(ENV[m[1] as keyof typeof ENV]);
  return names;
}

/** Every DROPKIT_ variable any function of a construct gets, with every optional prop that adds one. */
function setByConstruct(): Set<string> {
  const stack = new Stack(testApp(), 'Contract', { env: { account: '123456789012', region: 'eu-west-1' } });
  const feeds = loadProject(EXAMPLE, { localSources: false }).feeds;
  new FileExchange(stack, 'Exchange', {
    feeds,
    encryptionKey: new kms.Key(stack, 'Key'),
    sourceDatabase: 'shop',
    iamPartners: { acme: '123456789012' },
  });
  const names = new Set<string>();
  for (const fn of Object.values<any>(Template.fromStack(stack).findResources('AWS::Lambda::Function')))
    for (const name of Object.keys(fn.Properties.Environment?.Variables ?? {})) if (name.startsWith('DROPKIT_')) names.add(name);
  return names;
}

describe('the deploy contract (lib/core/deploy-contract.ts)', () => {
  it('sets on the functions exactly the variables the handlers read, but for the documented overrides', () => {
    const read = readByHandlers();
    const set = setByConstruct();
    expect([...set].filter((n) => !read.has(n)).sort()).toEqual([]);
    expect([...read].filter((n) => !set.has(n)).sort()).toEqual([...ENV_NOT_SET_BY_CONSTRUCT].sort());
    // Every name of the contract is used by someone: a renamed or dropped one fails here.
    expect(Object.values(ENV).filter((n) => !read.has(n) && !set.has(n))).toEqual([]);
  });

  it('is the only place the handlers and the construct spell a variable name or metric namespace', () => {
    const spelled = [...sources('lambdas'), ...sources('lib/cdk')].filter(({ text }) => /['"`]DROPKIT_[A-Z_]+['"`]|namespace:\s*['"`]/.test(text));
    expect(spelled.map((s) => s.file)).toEqual([]);
  });
});
