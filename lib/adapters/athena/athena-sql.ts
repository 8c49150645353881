import { sha256Hex } from '../../core/hash';
import { quoteIdent, statementShape, stringLiteral } from '../../core/sql-text';
import { athenaDialect } from './athena-dialect';
import type { ColumnSchema, QueryParameter } from '../../core/ports/query-engine';

/**
 * Athena (Trino) SQL text the engine writes: identifiers, literals, the canonical text of a
 * column, the statements it sends. Pure functions, so a state machine definition or a test can
 * build exactly what the engine sends.
 */

/** A quoted Trino identifier (the dialect's quoting, re-exported for the engine's own statements). */
export { quoteIdent };

/**
 * A quoted Hive identifier. Athena sends DDL (DROP, ALTER, CREATE without AS) to its Hive parser,
 * which takes backticks and refuses Trino's double quotes.
 */
export function hiveIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** `"db"."table"` (as the engine names a staged table) split into its two names. */
export function splitQualifiedName(qualified: string): { database: string; table: string } {
  const m = /^"((?:[^"]|"")+)"\."((?:[^"]|"")+)"$/.exec(qualified);
  if (!m) throw new Error(`not a quoted database.table name: ${qualified}`);
  return { database: m[1].replace(/""/g, '"'), table: m[2].replace(/""/g, '"') };
}

/** A Trino string literal (for locations the engine chose: configuration, never query parameters). */
export const sqlString = stringLiteral;

const ISO_SECONDS = `'%Y-%m-%dT%H:%i:%sZ'`;
// %f prints six fraction digits whatever the precision, as DuckDB's canonical form does.
const ISO_MICROS = `'%Y-%m-%dT%H:%i:%s.%fZ'`;

/** ISO-8601 UTC of a zoneless timestamp (read as UTC); the fraction only when it is not zero. */
function isoUtc(expr: string): string {
  return `CASE WHEN ${expr} = date_trunc('second', ${expr}) THEN date_format(${expr}, ${ISO_SECONDS}) ELSE date_format(${expr}, ${ISO_MICROS}) END`;
}

/**
 * The canonical text of one column in Trino, matching DuckDB's `canonicalText`: decimals at their
 * full scale (Trino's varchar cast keeps the scale), booleans `true`/`false`, timestamps ISO-8601
 * UTC with a fraction only when there is one, dates `YYYY-MM-DD`, binary as base64, nested values
 * as JSON. Doubles are Trino's varchar cast, which differs from DuckDB's shortest form for some
 * values (e.g. `1.0E10`): a known difference.
 */
export function canonicalText(column: ColumnSchema): string {
  const c = quoteIdent(column.name);
  const type = column.type.toUpperCase();
  if (type === 'BOOLEAN') return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
  if (type.startsWith('TIMESTAMP') && type.includes('WITH TIME ZONE')) return isoUtc(`at_timezone(${c}, 'UTC')`);
  if (type.startsWith('TIMESTAMP')) return isoUtc(c);
  if (type === 'VARBINARY') return `to_base64(${c})`;
  if (/^(ARRAY|MAP|ROW|JSON)/.test(type)) return `json_format(CAST(${c} AS JSON))`;
  return `CAST(${c} AS VARCHAR)`;
}

/** The canonical-text SELECT over the staged rows that streamText reads back as CSV. */
export function canonicalSelect(table: string, columns: readonly ColumnSchema[], orderBy?: readonly string[]): string {
  const select = columns.map((c) => `${canonicalText(c)} AS ${quoteIdent(c.name)}`).join(', ');
  // Order by the staged values, not their text: 10 sorts after 9.
  const order = orderBy?.length ? ` ORDER BY ${orderBy.map((name) => `${table}.${quoteIdent(name)}`).join(', ')}` : '';
  return `SELECT ${select || '1 AS "_"'} FROM ${table}${order}`;
}

/**
 * A ClientRequestToken: readable first (run, attempt, step), unique by a hash of everything that
 * makes the request, 32 to 128 characters as Athena requires. The same step of the same attempt
 * with the same statement gets the same token, so a retried step finds its query; a changed
 * statement gets another (Athena refuses a known token with a changed QueryString).
 */
export function requestToken(readable: readonly string[], identity: string): string {
  const hash = sha256Hex(identity).slice(0, 32);
  const head = readable
    .join('.')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 128 - hash.length - 1);
  return `${head}-${hash}`.replace(/^-/, '');
}

/**
 * The Glue table a stage statement creates: lowercase letters, digits and `_` (Glue's rule), named
 * after the run attempt, with a hash of the request so a changed query in the same attempt gets
 * a table (and a location) of its own instead of colliding with the last one.
 */
export function stagingTableName(runId: string, attemptId: string, identity: string): string {
  const safe = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '');
  return `stg_${safe(runId).slice(0, 120)}_${safe(attemptId).slice(0, 60)}_${sha256Hex(identity).slice(0, 12)}`;
}

/** Feed SQL ends with its last clause: trailing semicolons and blanks go (Athena runs one statement). */
export function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

/** `CREATE TABLE … AS` the feed query: the stage statement. */
export function ctasSql(database: string, table: string, externalLocation: string, select: string): string {
  return (
    `CREATE TABLE ${quoteIdent(database)}.${quoteIdent(table)} ` +
    `WITH (format = 'PARQUET', write_compression = 'ZSTD', external_location = ${sqlString(externalLocation)}) AS ${select}`
  );
}

/** Parquet codecs as UNLOAD names them. */
const UNLOAD_CODECS = { zstd: 'ZSTD', snappy: 'SNAPPY', gzip: 'GZIP', uncompressed: 'NONE' } as const;

/** The partition column a row-split UNLOAD adds (and Athena removes from the data files). */
export const PART_COLUMN = 'dropkit_part';

/**
 * `UNLOAD` the staged rows to Parquet. With `rowsPerPart`, rows are numbered and unloaded
 * partitioned by `(number - 1) / rowsPerPart`: each partition folder holds at most that many rows,
 * and the partition column is not written into the files.
 */
export function unloadSql(table: string, location: string, compression: keyof typeof UNLOAD_CODECS, rowsPerPart?: number): string {
  const props = `format = 'PARQUET', compression = '${UNLOAD_CODECS[compression]}'`;
  if (!rowsPerPart) return `UNLOAD (SELECT * FROM ${table}) TO ${sqlString(location)} WITH (${props})`;
  // floor + cast: Trino divides bigints as integers already; written so the intent holds whatever `/` does.
  const numbered = `SELECT *, CAST(floor((row_number() OVER () - 1) / ${rowsPerPart}) AS BIGINT) AS ${quoteIdent(PART_COLUMN)} FROM ${table}`;
  return `UNLOAD (${numbered}) TO ${sqlString(location)} WITH (${props}, partitioned_by = ARRAY['${PART_COLUMN}'])`;
}

/** DDL, so Hive syntax (backticks): Athena rejects `DROP TABLE "db"."t"`. */
export function dropTableSql(database: string, table: string): string {
  return `DROP TABLE IF EXISTS ${hiveIdent(database)}.${hiveIdent(table)}`;
}

/**
 * Why `sql` is not exactly one read-only query, or undefined when it is. Athena would run a
 * `CREATE TABLE` or `DROP` sent as a check; the engine refuses anything but one SELECT (or WITH …
 * SELECT, VALUES) before sending it. The shared lexer reads it as Trino does (athenaDialect.lexing),
 * so literals, quoted identifiers and comments are skipped exactly where Trino skips them.
 */
export function notOneSelect(sql: string): string | undefined {
  const shape = statementShape(sql, athenaDialect.lexing);
  if (shape.severalStatements) return 'a check must be one SELECT statement; this SQL holds several';
  const first = shape.firstWord;
  if (first !== 'SELECT' && first !== 'WITH' && first !== 'VALUES')
    return `a check must be a read-only SELECT statement; this one starts with ${first ?? 'nothing'}`;
  return undefined;
}

/**
 * A parameter as a typed SQL literal, escaped: what Athena's ExecutionParameters take (each value
 * is read as a literal). A value holding `'` or `;` stays one string literal.
 */
export function sqlLiteral(p: QueryParameter): string {
  switch (p.type) {
    case 'VARCHAR':
      return stringLiteral(String(p.value));
    case 'BIGINT': {
      const n = Number(p.value);
      if (!Number.isSafeInteger(n)) throw new RangeError(`parameter ${p.name}: ${String(p.value)} is not a safe integer`);
      return String(n);
    }
    case 'DOUBLE': {
      const n = Number(p.value);
      if (!Number.isFinite(n)) throw new RangeError(`parameter ${p.name}: ${String(p.value)} is not a finite number`);
      return `DOUBLE '${n}'`;
    }
    case 'BOOLEAN':
      return p.value === true || p.value === 'true' ? 'true' : 'false';
    case 'TIMESTAMP': {
      const t = new Date(String(p.value));
      if (Number.isNaN(t.getTime())) throw new RangeError(`parameter ${p.name}: ${String(p.value)} is not a timestamp`);
      // Athena's TIMESTAMP literal: no zone, no T; the value is UTC.
      return athenaDialect.timestamp(t.toISOString());
    }
  }
}

const HIVE_TO_TRINO: Record<string, string> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  integer: 'INTEGER',
  tinyint: 'TINYINT',
  smallint: 'SMALLINT',
  bigint: 'BIGINT',
  float: 'REAL',
  real: 'REAL',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  binary: 'VARBINARY',
  varbinary: 'VARBINARY',
  varchar: 'VARCHAR',
};

/**
 * A column type as the Glue catalog (GetTableMetadata) or a result set names it, in the engine's
 * (Trino's) upper-case spelling the checks understand: `string` → VARCHAR, `int` → INTEGER,
 * `decimal(12,2)` → DECIMAL(12,2), `array<int>` → ARRAY(INTEGER).
 */
export function engineType(type: string): string {
  const t = type.trim().toLowerCase();
  const simple = HIVE_TO_TRINO[t];
  if (simple) return simple;
  const sized = /^(decimal|varchar|char)\s*\(([^)]*)\)$/.exec(t);
  if (sized) return `${sized[1].toUpperCase()}(${sized[2].replace(/\s+/g, '')})`;
  const nested = /^(array|map)<(.*)>$/.exec(t);
  if (nested) return `${nested[1].toUpperCase()}(${splitTop(nested[2]).map(engineType).join(', ')})`;
  const struct = /^struct<(.*)>$/.exec(t);
  if (struct)
    return `ROW(${splitTop(struct[1])
      .map((f) => {
        const k = f.indexOf(':');
        return `${f.slice(0, k)} ${engineType(f.slice(k + 1))}`;
      })
      .join(', ')})`;
  return type.trim().toUpperCase();
}

/** Splits `a,map<b,c>,d` at the top level only. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '<' || text[i] === '(') depth++;
    else if (text[i] === '>' || text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(from, i).trim());
      from = i + 1;
    }
  }
  parts.push(text.slice(from).trim());
  return parts;
}
