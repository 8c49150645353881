import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { loadProject } from '../project/load-project';
import { FileExchange, FileExchangeProps } from './file-exchange';
import { projectProps } from './project-props';

export interface FileExchangeStackProps extends StackProps, Omit<FileExchangeProps, 'feeds' | 'keyPrefix'> {
  /**
   * The project folder (with dropkit.yaml). Its feeds are validated as `dropkit check` does: an
   * invalid feed fails the synth with the same messages. Its `aws:` section names what the feeds
   * read (granted to the pipeline) and the default database; `sources` and `sourceDatabase` given
   * here win over it.
   */
  readonly projectDir: string;
}

/** A stack holding one project's FileExchange: what `cdk deploy` in this repository deploys. */
export class FileExchangeStack extends Stack {
  readonly exchange: FileExchange;

  constructor(scope: Construct, id: string, props: FileExchangeStackProps) {
    super(scope, id, props);
    // Deployed feeds read the catalog's tables: the local sources need not exist here.
    const project = loadProject(props.projectDir, { localSources: false });
    const fromProject = projectProps(project);
    this.exchange = new FileExchange(this, 'Exchange', {
      ...props,
      ...fromProject,
      sources: props.sources ?? fromProject.sources,
      sourceDatabase: props.sourceDatabase ?? fromProject.sourceDatabase,
    });
    const x = this.exchange;
    new CfnOutput(this, 'DropsBucket', { value: x.bucket.bucketName, description: 'where the drops are' });
    new CfnOutput(this, 'LinkBrokerUrl', { value: x.api.url, description: 'partners: GET feeds/{feed}/latest or feeds/{feed}/slots/{slot}' });
    new CfnOutput(this, 'PipelineArn', { value: x.stateMachine.stateMachineArn, description: 'start with {"feed":…,"slot":…,"partners":[…]}' });
    new CfnOutput(this, 'OpsTopicArn', { value: x.opsTopic.topicArn, description: 'alarms and failed runs: subscribe the on-call' });
    new CfnOutput(this, 'PartnerSecretPrefix', { value: x.partnerSecretPrefix, description: 'one secret per partner holding {"sha256":"<hex of its key>"}' });
    new CfnOutput(this, 'DashboardName', { value: x.dashboard.dashboardName });
    new CfnOutput(this, 'WorkGroup', { value: x.workGroup.ref, description: 'Athena workgroup of the feed queries (dropkit run --engine athena --workgroup)' });
    new CfnOutput(this, 'StagingDatabase', { value: x.stagingDatabase.ref, description: 'Glue database of the staged tables (--staging-database)' });
  }
}
