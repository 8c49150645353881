import { join, dirname } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from './acknowledgements';
import { LAMBDA_BUNDLING, LAMBDA_ENTRIES, LambdaRole } from './lambda-entries';
import { lambdaEntry, packageRoots } from './lambda-packaging';

/** Memory and timeout of each step function: the longest a state machine step can take is the longest timeout here. */
export const FUNCTION_SIZES: Readonly<Record<LambdaRole, { readonly memory: number; readonly timeout: Duration }>> = {
  plan: { memory: 512, timeout: Duration.minutes(5) },
  compileStage: { memory: 256, timeout: Duration.minutes(1) },
  completeStage: { memory: 512, timeout: Duration.minutes(5) },
  validate: { memory: 1024, timeout: Duration.minutes(15) },
  render: { memory: 2048, timeout: Duration.minutes(15) },
  publish: { memory: 1024, timeout: Duration.minutes(15) },
  // A push streams files (and waits on SFTP connectors): a long one fails its record and the next run resumes it.
  push: { memory: 1024, timeout: Duration.minutes(15) },
  notify: { memory: 512, timeout: Duration.minutes(5) },
  failRun: { memory: 512, timeout: Duration.minutes(5) },
  approve: { memory: 512, timeout: Duration.minutes(5) },
  linkBroker: { memory: 512, timeout: Duration.seconds(29) },
  partnerAuthorizer: { memory: 256, timeout: Duration.seconds(10) },
  slaWatch: { memory: 512, timeout: Duration.minutes(5) },
};

/** The longest any step function may run (the lease must outlive it). */
export const LONGEST_STEP = Duration.seconds(Math.max(...Object.values(FUNCTION_SIZES).map((s) => s.timeout.toSeconds())));

/**
 * A step function: Node.js 24 on arm64, bundled by esbuild with the project's feeds beside it, its
 * own role and log group. Ids are `<Role>Function`, `<Role>FunctionRole`, `<Role>FunctionLogs`.
 */
export function dropkitFunction(scope: Construct, role: LambdaRole, environment: Record<string, string>, feedsFile: string): nodejs.NodejsFunction {
  const id = role[0].toUpperCase() + role.slice(1) + 'Function';
  const size = FUNCTION_SIZES[role];
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
  const fnRole = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `dropkit ${LAMBDA_ENTRIES[role]} step`,
  });
  logGroup.grantWrite(fnRole);
  const roots = packageRoots();
  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: lambdaEntry(roots.dropkit, LAMBDA_ENTRIES[role]),
    handler: 'handler',
    projectRoot: dirname(roots.lockFile),
    depsLockFilePath: roots.lockFile,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: size.memory,
    timeout: size.timeout,
    role: fnRole,
    logGroup,
    tracing: lambda.Tracing.ACTIVE,
    environment,
    description: `dropkit: ${LAMBDA_ENTRIES[role]}`,
    bundling: {
      target: LAMBDA_BUNDLING.target,
      format: nodejs.OutputFormat.CJS,
      minify: LAMBDA_BUNDLING.minify,
      mainFields: [...LAMBDA_BUNDLING.mainFields],
      sourceMap: true,
      // The SDK goes into the bundle: the adapters rely on its recent checksum and conditional-write support.
      bundleAwsSDK: true,
      externalModules: [],
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (_input: string, output: string) => [
          `node -e "require('fs').copyFileSync(process.argv[1], process.argv[2])" "${feedsFile}" "${join(output, 'feeds.json')}"`,
        ],
      },
    },
  });
  acknowledge(fn, {
    'Serverless-LambdaDLQ':
      'invoked synchronously only (by Step Functions, whose Retry/Catch handle failures, or by API Gateway); a DLQ serves asynchronous invocations',
  });
  return fn;
}
