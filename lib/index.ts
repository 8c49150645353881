// `dropkit`: the core. Feed model, slots, SLA, checks, manifest, the steps and the ports. Re-exports
// only; nothing here loads DuckDB, an AWS SDK or the file system (a test bundles it to make sure).
// The embedded engine and local store are `dropkit/local`; the AWS half is `dropkit/aws`.
export * from './core/errors';
export * from './core/cron';
export * from './core/slots';
export * from './core/sla';
export * from './core/layout';
export * from './core/lease';
export * from './core/run-id';
export * from './core/sql-parameters';
export type { Manifest, ManifestFile, LatestPointer, SlotInfo, ValidationStatus } from './core/manifest';
export { manifestProblems, assertValidManifest } from './core/manifest-schema';
export type { RunRecord, StepName } from './core/run-record';
export * from './core/feed/feed-schema';
export * from './core/feed/feed-definition';
export type { CheckDefinition, CheckResult, CompiledCheck, Outcome, Severity } from './core/checks/check-types';
export { CHECK_TYPES, checkSchema } from './core/checks/registry';
export * from './core/csv/csv-writer';
export * from './core/steps/step-deps';
export * from './core/steps/run-state';
export * from './core/steps/plan';
export * from './core/steps/begin';
export * from './core/steps/stage';
export * from './core/steps/validate';
export * from './core/steps/render';
export * from './core/steps/publish';
export * from './core/steps/roll-forward';
export * from './core/steps/notify';
export * from './core/steps/fail-run';
export * from './core/steps/repair';
export type * from './ports/query-engine';
export * from './ports/object-store';
export type * from './ports/link-signer';
export type * from './ports/notifier';
export * from './ports/clock';
