import type { ColumnSchema } from '../../core/ports/query-engine';
import { isoDuration, quoteIdent } from './duckdb-sql';
import { mapScalars, parseDuckDbType } from './duckdb-types';

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
 * | `BIGNUM`, `BIT`, `ENUM(…)` | `VARCHAR` | the CSV text (DuckDB writes them as strings anyway) |
 *
 * inside lists, structs and maps too (a converted fixed-size array becomes a list). The manifest
 * records the file's type, as DuckDB names it, as `parquetType` beside the column's `type`
 * (schemas/manifest.v1.schema.json).
 */
const PARQUET_AS: Readonly<Record<string, (expr: string) => string>> = {
  HUGEINT: (e) => `CAST(${e} AS DECIMAL(38,0))`,
  UHUGEINT: (e) => `CAST(${e} AS DECIMAL(38,0))`,
  INTERVAL: isoDuration,
  'TIME WITH TIME ZONE': asText,
  // DuckDB writes these as strings already (BIGNUM without even a UTF8 annotation): said out loud.
  BIGNUM: asText,
  VARINT: asText,
  BIT: asText,
};

function asText(expr: string): string {
  return `CAST(${expr} AS VARCHAR)`;
}

function parquetAs(scalar: string): ((expr: string) => string) | undefined {
  return scalar.startsWith('ENUM(') ? asText : PARQUET_AS[scalar];
}

/** The SQL writing a staged column to Parquet, or undefined when it is written as it is. */
export function parquetColumn(column: ColumnSchema): string | undefined {
  return mapScalars(quoteIdent(column.name), parseDuckDbType(column.type), (e, scalar) => parquetAs(scalar)?.(e));
}

/** The select list writing `columns` to Parquet, or undefined when every column is written as it is. */
export function parquetSelectList(columns: readonly ColumnSchema[]): string | undefined {
  const converted = columns.map((c) => parquetColumn(c));
  if (converted.every((c) => c === undefined)) return undefined;
  return columns.map((c, i) => (converted[i] ? `${converted[i]} AS ${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ');
}

/** Columns holding HUGEINT or UHUGEINT values somewhere: the ones a too-wide value can be in. */
export function hugeintColumns(columns: readonly ColumnSchema[]): ColumnSchema[] {
  return columns.filter((c) => /\bU?HUGEINT\b/i.test(c.type));
}
