/**
 * The Lambda handlers of the pipeline, by role: the file under `lambdas/` (without extension).
 * Shared by the construct and the bundle test, so every deployed handler is checked.
 */
export const LAMBDA_ENTRIES = {
  plan: 'plan',
  compileStage: 'compile-stage',
  completeStage: 'complete-stage',
  validate: 'validate',
  render: 'render',
  publish: 'publish',
  push: 'push',
  notify: 'notify',
  failRun: 'fail-run',
  approve: 'approve',
  linkBroker: 'link-broker',
  partnerAuthorizer: 'partner-authorizer',
  slaWatch: 'sla-watch',
} as const;

export type LambdaRole = keyof typeof LAMBDA_ENTRIES;

/** Packages no Lambda bundle may hold: the local engine and the CDK itself. */
export const FORBIDDEN_IN_BUNDLES = ['@duckdb/node-api', 'aws-cdk-lib', 'constructs'] as const;

/**
 * esbuild options of every handler's bundle, given by the construct (NodejsFunction) and by the
 * bundle test and bench: minified, and the SDK's ES module builds first (`module`), which esbuild
 * can tree-shake to what the handler calls.
 */
export const LAMBDA_BUNDLING = { target: 'node22', minify: true, mainFields: ['module', 'main'] } as const;
