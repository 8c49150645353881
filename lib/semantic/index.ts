// The semantic layer: dbt MetricFlow YAML read and validated, metric selections compiled to each
// engine's SQL. Pure: no engine, no SDK, no file system (the project loader reads the files).
export * from './semantic-schema';
export * from './semantic-layer';
export * from './compile';
export * from './metric-usage';
export type { SemanticDialect } from './dialect';
export { ENGINE_DIALECTS as SEMANTIC_DIALECTS } from '../engines';
