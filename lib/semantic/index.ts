// The semantic layer: dbt MetricFlow YAML read and validated, metric selections compiled to each
// engine's SQL. Pure: no engine, no SDK, no file system (the project loader reads the files).
export * from './semantic-schema';
export * from './semantic-layer';
export * from './compile';
export * from './metric-usage';
// Each engine's dialect lives in its adapter; `dropkit-files/local` exports the registry (ENGINE_DIALECTS, alias SEMANTIC_DIALECTS).
export type { SemanticDialect } from './dialect';
