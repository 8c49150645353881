import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FileExchangeStack, FileExchangeStackProps } from '../../lib/cdk/file-exchange-stack';

export const EXAMPLE = join(__dirname, '../../examples/shop');

/** A test app: bundling of the Lambdas skipped (their bundles are tested apart), a fixed account and region. */
export function testApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

export function exampleStack(app = testApp(), props: Partial<FileExchangeStackProps> = {}): FileExchangeStack {
  return new FileExchangeStack(app, 'Dropkit', { projectDir: EXAMPLE, env: { account: '123456789012', region: 'eu-west-1' }, ...props });
}

export function templateOf(stack: FileExchangeStack): Template {
  return Template.fromStack(stack);
}
