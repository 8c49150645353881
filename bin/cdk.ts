#!/usr/bin/env node
// `npx cdk synth|deploy [-c project=DIR] [-c stackName=NAME] [-c sourceDatabase=DB]`: the stack for a project folder
// (examples/shop by default). An invalid feed or prop fails here with the messages of `dropkit check`
// and exit code 2 (the cdk CLI then reports "Subprocess exited with error 2" and itself exits 1).
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { DropkitError } from '../lib/core/errors';
import { FileExchangeStack } from '../lib/cdk/file-exchange-stack';

const app = new App();
const projectDir = resolve(String(app.node.tryGetContext('project') ?? 'examples/shop'));
const stackName = String(app.node.tryGetContext('stackName') ?? 'Dropkit');
const sourceDatabase = app.node.tryGetContext('sourceDatabase') as string | undefined;
try {
  new FileExchangeStack(app, stackName, {
    projectDir,
    sourceDatabase,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: `dropkit file exchange for ${projectDir}`,
  });
  app.synth();
} catch (error) {
  if (error instanceof DropkitError) {
    process.stderr.write(`dropkit: cannot synthesize ${projectDir}\n${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
