// `dropkit/aws`: the AWS half. Re-exports only.
// Athena engine (QueryEngine on Athena + Glue staging tables) and its pure statement builders.
export { AthenaEngine, athenaStageStatement, startInput as athenaStartInput, s3UriOf, storeKeyOf } from './adapters/athena/athena-engine';
export type { AthenaEngineOptions, AthenaStagePlan } from './adapters/athena/athena-engine';
export { canonicalSelect as athenaCanonicalSelect, canonicalText as athenaCanonicalText, ctasSql, unloadSql, requestToken, stagingTableName } from './adapters/athena/athena-sql';
export { AthenaCsvParser, parseAthenaCsv } from './adapters/athena/athena-result-csv';
export { parquetRowsFromTail } from './adapters/athena/parquet-footer';
