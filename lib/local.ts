// `dropkit-files/local`: the embedded default. DuckDB, the local folder store, file links, the outbox,
// console and webhook notifiers, project loading, the in-process runner and the CLI.
export * from './adapters/duckdb/duckdb-engine';
export * from './adapters/local/local-store';
export * from './adapters/local/local-link-signer';
export * from './adapters/local/outbox-notifier';
export * from './adapters/local/console-notifier';
export * from './adapters/webhook/webhook-notifier';
export * from './adapters/webhook/webhook-signature';
export * from './project/load-project';
export * from './runner/run-slot';
export * from './runner/backfill';
export { localContext } from './cli/local-context';
export { main } from './cli/main';
// Destinations: local folder, HTTP API (reverse ETL), SFTP, the DuckDB change engine, and the default builder from feed specs.
export * from './adapters/local/local-destination';
export * from './adapters/http/http-api-destination';
export * from './adapters/sftp/sftp-destination';
export * from './adapters/duckdb/duckdb-destination';
export * from './adapters/destinations/destination-factory';
// The engine registry: every engine's name and SQL dialect (SEMANTIC_DIALECTS: its former name).
export * from './engines';
export { ENGINE_DIALECTS as SEMANTIC_DIALECTS } from './engines';
