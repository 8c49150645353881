// The CDK half of dropkit, imported as `dropkit-files/cdk`. aws-cdk-lib and constructs are peer
// dependencies; nothing here is imported by lib/index.ts, lib/aws.ts or any Lambda handler.
export * from './cdk/file-exchange';
export * from './cdk/file-exchange-stack';
export * from './cdk/errors';
export { LAMBDA_ENTRIES } from './cdk/lambda-entries';
export { TRANSIENT_ERRORS, ATHENA_TRANSIENT_ERRORS } from './cdk/pipeline-definition';
export { projectProps } from './cdk/project-props';
export { propProblems } from './cdk/validate-props';
// The project loader needs no DuckDB: a CDK app loads its feeds from here.
export { loadProject, PROJECT_FILE } from './project/load-project';
export type { Project, LoadProjectOptions } from './project/load-project';
