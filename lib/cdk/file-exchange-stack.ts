import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { loadProject } from '../project/load-project';
import { FileExchange, FileExchangeProps } from './file-exchange';

export interface FileExchangeStackProps extends StackProps, Omit<FileExchangeProps, 'feeds' | 'keyPrefix'> {
  /**
   * The project folder (with dropkit.yaml). Its feeds are validated as `dropkit check` does: an
   * invalid feed fails the synth with the same messages.
   */
  readonly projectDir: string;
}

/** A stack holding one project's FileExchange: what `cdk deploy` in this repository deploys. */
export class FileExchangeStack extends Stack {
  readonly exchange: FileExchange;

  constructor(scope: Construct, id: string, props: FileExchangeStackProps) {
    super(scope, id, props);
    const project = loadProject(props.projectDir);
    this.exchange = new FileExchange(this, 'Exchange', { ...props, feeds: project.feeds, keyPrefix: project.spec.prefix || 'drops' });
  }
}
