import type { ColumnSchema } from '../../ports/query-engine';
import { isoDuration, quoteIdent } from './duckdb-sql';
import { mapScalars, parseDuckDbType, type DuckDbType } from './duckdb-types';

/**
 * What the Parquet drop holds for DuckDB types that Parquet cannot hold as they are. DuckDB's own
 * writer would change their values (HUGEINT → DOUBLE, INTERVAL cut to Parquet's months/days/millis,
 * TIME WITH TIME ZONE shifted to UTC without its offset); dropkit writes instead:
 *
 * | DuckDB type | Parquet column | value |
 * |---|---|---|
 * | `HUGEINT`, `UHUGEINT` | `DECIMAL(38,0)` | every digit; a value beyond 38 digits is refused |
 * | `INTERVAL` | `VARCHAR` (UTF8 string) | ISO-8601 duration, the CSV text: `P1Y2M-3DT4H5M6.5S` |
 * | `TIME WITH TIME ZONE` | `VARCHAR` | `12:34:56+05:30`, the CSV text |
 *
 * inside lists, structs and maps too. The manifest records the file's type as `parquetType`
 * beside the column's `type` (schemas/manifest.v1.schema.json).
 */
const PARQUET_AS: Readonly<Record<string, { type: string; sql: (expr: string) => string }>> = {
  HUGEINT: { type: 'DECIMAL(38,0)', sql: (e) => `CAST(${e} AS DECIMAL(38,0))` },
  UHUGEINT: { type: 'DECIMAL(38,0)', sql: (e) => `CAST(${e} AS DECIMAL(38,0))` },
  INTERVAL: { type: 'VARCHAR', sql: isoDuration },
  'TIME WITH TIME ZONE': { type: 'VARCHAR', sql: (e) => `CAST(${e} AS VARCHAR)` },
};

/** The Parquet column of a staged column: the SQL writing it and its type, or undefined when written as it is. */
export function parquetColumn(column: ColumnSchema): { sql: string; type: string } | undefined {
  const tree = parseDuckDbType(column.type);
  const sql = mapScalars(quoteIdent(column.name), tree, (e, scalar) => PARQUET_AS[scalar]?.sql(e));
  return sql === undefined ? undefined : { sql, type: parquetTypeText(tree) };
}

/** The type a converted tree has in the file (a converted list or array becomes a list). */
function parquetTypeText(type: DuckDbType): string {
  switch (type.kind) {
    case 'scalar':
      return PARQUET_AS[type.text.toUpperCase()]?.type ?? type.text;
    case 'list': {
      const of = parquetTypeText(type.of);
      return of === type.of.text ? type.text : `${of}[]`;
    }
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${parquetTypeText(f.type)}`).join(', ')})`;
    case 'map':
      return `MAP(${parquetTypeText(type.key)}, ${parquetTypeText(type.value)})`;
  }
}

/** The select list writing `columns` to Parquet, or undefined when every column is written as it is. */
export function parquetSelectList(columns: readonly ColumnSchema[]): string | undefined {
  const converted = columns.map((c) => parquetColumn(c));
  if (converted.every((c) => c === undefined)) return undefined;
  return columns.map((c, i) => (converted[i] ? `${converted[i].sql} AS ${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ');
}

/** Columns holding HUGEINT or UHUGEINT values somewhere: the ones a too-wide value can be in. */
export function hugeintColumns(columns: readonly ColumnSchema[]): ColumnSchema[] {
  return columns.filter((c) => /\bU?HUGEINT\b/i.test(c.type));
}
