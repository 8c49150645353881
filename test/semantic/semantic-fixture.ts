import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance, timestampValue } from '@duckdb/node-api';
import { parse } from 'yaml';
import { toPositional } from '../../lib/core/sql-parameters';
import type { QueryParameter } from '../../lib/core/ports/query-engine';
import { buildSemanticLayer, SemanticLayer } from '../../lib/semantic/semantic-layer';

/** The example shop's semantic YAML: the tests compile the very file the example ships. */
export const SHOP_SEMANTIC_FILE = join(__dirname, '..', '..', 'examples', 'shop', 'semantic', 'shop.yml');
export const SEED_SQL = readFileSync(join(__dirname, 'fixtures', 'seed.sql'), 'utf8');

export function shopLayer(): SemanticLayer {
  const { layer, problems } = buildSemanticLayer([{ file: 'semantic/shop.yml', raw: parse(readFileSync(SHOP_SEMANTIC_FILE, 'utf8')) }]);
  if (problems.length) throw new Error(JSON.stringify(problems, null, 2));
  return layer;
}

export async function seededDuckDb(path = ':memory:'): Promise<{ connection: DuckDBConnection; close: () => void }> {
  const db = await DuckDBInstance.create(path);
  const connection = await db.connect();
  await connection.run(`SET TimeZone = 'UTC'`);
  await connection.run(SEED_SQL);
  return {
    connection,
    close: () => {
      connection.closeSync();
      db.closeSync();
    },
  };
}

export type Row = Record<string, string | number | null>;

/** Runs SQL with `$name` parameters bound as the DuckDB engine binds them; values normalised for comparison. */
export async function runRows(connection: DuckDBConnection, sql: string, parameters: readonly QueryParameter[] = []): Promise<Row[]> {
  const positional = toPositional(sql, parameters);
  const prepared = await connection.prepare(positional.sql);
  positional.parameters.forEach((p, index) => {
    if (p.type === 'TIMESTAMP') prepared.bindTimestamp(index + 1, timestampValue(BigInt(Date.parse(String(p.value))) * 1000n));
    else if (p.type === 'VARCHAR') prepared.bindVarchar(index + 1, String(p.value));
    else prepared.bindDouble(index + 1, Number(p.value));
  });
  const reader = await prepared.runAndReadAll();
  return reader.getRowObjectsJS().map((r) => normaliseRow(r as Record<string, unknown>));
}

/** Numbers rounded to 6 significant decimals, times as ISO text: engines print the same value differently. */
export function normaliseRow(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = normaliseValue(v);
  return out;
}

export function normaliseValue(v: unknown): string | number | null {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) return v.toISOString().replace('.000Z', '').replace('T', ' ');
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Math.round(v * 1e6) / 1e6;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) return Math.round(Number(v) * 1e6) / 1e6;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/.test(v)) return v.replace('T', ' ').slice(0, 19);
  if (typeof v === 'object' && 'micros' in (v as object))
    return new Date(Number((v as { micros: bigint }).micros / 1000n)).toISOString().replace('.000Z', '').replace('T', ' ');
  return String(v);
}

/** Rows in a stable order whatever order the engine returned them in. */
export function sortRows(rows: Row[]): Row[] {
  return [...rows].sort((a, b) => (JSON.stringify(Object.entries(a)) < JSON.stringify(Object.entries(b)) ? -1 : 1));
}

export const windowParameters = (start: string, end: string): QueryParameter[] => [
  { name: 'window_start', type: 'TIMESTAMP', value: new Date(start).toISOString() },
  { name: 'window_end', type: 'TIMESTAMP', value: new Date(end).toISOString() },
];
