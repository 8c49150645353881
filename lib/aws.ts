// The AWS half of dropkit, imported as `dropkit-files/aws`. Re-exports only; kept apart from lib/index.ts
// so that importing the core never loads an AWS SDK.
export * from './adapters/s3/s3-store';
export * from './adapters/s3/s3-link-signer';
export * from './adapters/s3/s3-errors';
export * from './adapters/sns/sns-notifier';
export * from './adapters/eventbridge/eventbridge-notifier';
// Athena engine (QueryEngine on Athena + Glue staging tables) and its pure statement builders.
export { AthenaEngine, athenaStageStatement, startInput as athenaStartInput, s3UriOf, storeKeyOf } from './adapters/athena/athena-engine';
export type { AthenaEngineOptions, AthenaStagePlan } from './adapters/athena/athena-engine';
export {
  canonicalSelect as athenaCanonicalSelect,
  canonicalText as athenaCanonicalText,
  ctasSql,
  unloadSql,
  requestToken,
  stagingTableName,
} from './adapters/athena/athena-sql';
export { parquetRowsFromTail } from './adapters/athena/parquet-footer';
// Athena's result CSV read back and rewritten in a feed's CSV dialect.
export * from './adapters/athena/athena-csv-transform';
// Push delivery into a partner's bucket (their role, their KMS key).
export * from './adapters/s3/s3-destination';
