import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DIFF_TABLE_PREFIX } from '../core/deploy-contract';
import type { SourceAccess } from './file-exchange-props';
import { parseS3Location } from './grants';
import type { KeyScopes } from './key-scopes';

export interface QueryResourcesProps {
  readonly bucket: s3.IBucket;
  /** Lower-case, `-`-separated name base of the construct's named resources. */
  readonly base: string;
  readonly resultsPrefix: string;
  readonly encryptionKey?: kms.IKey;
  readonly bytesScannedCutoffPerQuery: number;
  readonly enforceWorkGroupConfiguration: boolean;
}

/** Athena's workgroup and the Glue staging database, and the grants to query in them. */
export class QueryResources extends Construct {
  readonly workGroup: athena.CfnWorkGroup;
  readonly stagingDatabase: glue.CfnDatabase;
  readonly stagingDatabaseName: string;
  private readonly bucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: QueryResourcesProps) {
    super(scope, id);
    this.bucket = props.bucket;
    this.stagingDatabaseName = `${props.base.replace(/[^a-z0-9]/g, '_')}_staging`;
    this.stagingDatabase = new glue.CfnDatabase(this, 'StagingDatabase', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: this.stagingDatabaseName,
        description: 'dropkit: staged results of feed queries (one table per run attempt, dropped after the run)',
      },
    });
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `${props.base}-dropkit`,
      description: 'dropkit feed queries',
      recursiveDeleteOption: true,
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: props.enforceWorkGroupConfiguration,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${props.bucket.bucketName}/${props.resultsPrefix}`,
          encryptionConfiguration: props.encryptionKey ? { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn } : { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }

  private glueArn(resource: string, name?: string): string {
    return Stack.of(this).formatArn({
      service: 'glue',
      resource,
      resourceName: name,
      arnFormat: name ? ArnFormat.SLASH_RESOURCE_NAME : ArnFormat.NO_RESOURCE_NAME,
    });
  }

  private workGroupArn(): string {
    return Stack.of(this).formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroup.ref });
  }

  /** Athena and the staging database, for a function that runs check/export queries over staged rows (and drops the table when `dropTables`). */
  grantQueries(fn: lambda.IFunction, dropTables: boolean): void {
    const db = this.stagingDatabaseName;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
        resources: [this.workGroupArn()],
      }),
    );
    // The engine reads staged columns with GetTableMetadata, a data-catalog action.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['athena:GetTableMetadata'],
        resources: [Stack.of(this).formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' })],
      }),
    );
    // Athena checks the caller may locate the results bucket.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [this.bucket.bucketArn] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions', ...(dropTables ? ['glue:DeleteTable'] : [])],
        resources: [this.glueArn('catalog'), this.glueArn('database', db), this.glueArn('table', `${db}/*`)],
      }),
    );
  }

  /** The Athena diff's own tables in the staging database (only DIFF_TABLE_PREFIX*): created and dropped by the push function. */
  grantDiffTables(fn: lambda.IFunction): void {
    const db = this.stagingDatabaseName;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['glue:CreateTable', 'glue:DeleteTable'],
        resources: [this.glueArn('catalog'), this.glueArn('database', db), this.glueArn('table', `${db}/${DIFF_TABLE_PREFIX}*`)],
      }),
    );
  }

  /** The stage query, run by the state machine itself: the sources (read), staging (write) and results. */
  grantStageQuery(role: iam.IRole, scopes: KeyScopes, sources: SourceAccess, encryptionKey: kms.IKey | undefined): void {
    const db = this.stagingDatabaseName;
    const policy = new iam.Policy(this, 'StageQueryPolicy', { roles: [role] });
    policy.addStatements(
      new iam.PolicyStatement({ actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution'], resources: [this.workGroupArn()] }),
      new iam.PolicyStatement({
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:GetPartitions'],
        resources: [this.glueArn('catalog'), this.glueArn('database', db), this.glueArn('table', `${db}/*`)],
      }),
      new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [this.bucket.bucketArn] }),
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [scopes.staging, scopes.results] } },
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [this.bucket.arnForObjects(scopes.staging), this.bucket.arnForObjects(scopes.results)],
      }),
    );
    const glueTables = sources.glueTables ?? [];
    if (glueTables.length) {
      const resources = [
        this.glueArn('catalog'),
        ...glueTables.flatMap((t) => [
          this.glueArn('database', t.database),
          ...(t.tables ?? ['*']).map((name) => this.glueArn('table', `${t.database}/${name}`)),
        ]),
      ];
      policy.addStatements(
        new iam.PolicyStatement({
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'],
          resources,
        }),
      );
    }
    const locations = (sources.s3Locations ?? []).map(parseS3Location);
    if (locations.length) {
      policy.addStatements(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: locations.map((l) => `arn:${Aws.PARTITION}:s3:::${l.bucket}/${l.prefix}*`) }),
        ...locations.map(
          (l) =>
            new iam.PolicyStatement({
              actions: ['s3:ListBucket', 's3:GetBucketLocation'],
              resources: [`arn:${Aws.PARTITION}:s3:::${l.bucket}`],
              conditions: l.prefix ? { StringLike: { 's3:prefix': [`${l.prefix}*`] } } : undefined,
            }),
        ),
      );
    }
    for (const key of sources.kmsKeys ?? []) key.grantDecrypt(role);
    if (sources.kmsKeyArns?.length) policy.addStatements(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [...sources.kmsKeyArns] }));
    if (encryptionKey) encryptionKey.grant(role, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*');
  }
}
