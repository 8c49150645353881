import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Parser } from 'node-sql-parser';
import type { CheckTarget, PreviousDrop } from '../../lib/core/checks/check-types';
import { checkDefinition, checkSchema, CheckConfig, CHECK_TYPES } from '../../lib/core/checks/registry';
import { profileExpressions, topValuesSql } from '../../lib/core/profile/profile';
import { validateStaged } from '../../lib/core/steps/validate';
import { ENGINE_DIALECTS, ENGINE_NAMES, engineDialect, type RegisteredEngine } from '../../lib/engines';
import type { ColumnSchema, QueryEngine, StagedTable } from '../../lib/core/ports/query-engine';

/*
 * The check catalogue over every registered engine (as Kysely runs one suite per dialect): each
 * check compiled through the engine's dialect gives exactly the SQL listed for that engine, and
 * that SQL is accepted by the engine — DuckDB runs it for real; Athena's is parsed with
 * node-sql-parser's Trino grammar (no Trino runs here). A new engine in lib/engines.ts fails
 * to compile here until it has its expected SQL and its way of proving the SQL is its own.
 */

const SLOT = {
  id: '20240115T060000Z',
  scheduledFor: '2024-01-15T06:00:00.000Z',
  dataInterval: { start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' },
  timezone: 'UTC',
  cron: '0 6 * * *',
};
const PREVIOUS: PreviousDrop = { runId: 'run-prev', slot: '20240114T060000Z', rowCount: 8 };
const TABLE = '"stg"';
const COLUMNS: ColumnSchema[] = [
  { name: 'id', type: 'INTEGER', nullable: true },
  { name: 'status', type: 'VARCHAR', nullable: true },
  { name: 'amount', type: 'DOUBLE', nullable: true },
  { name: 'updated_at', type: 'TIMESTAMP', nullable: true },
  { name: 'day', type: 'DATE', nullable: true },
];

/** How each engine proves a SQL text is its own. */
interface Acceptor {
  accepts(sql: string): Promise<void>;
  close(): void;
}
const ACCEPTS: { readonly [E in RegisteredEngine]: () => Promise<Acceptor> } = {
  async duckdb() {
    const db = await DuckDBInstance.create(':memory:');
    const c: DuckDBConnection = await db.connect();
    await c.run(`CREATE TABLE stg (id INTEGER, status VARCHAR, amount DOUBLE, updated_at TIMESTAMP, day DATE)`);
    await c.run(`INSERT INTO stg VALUES (1, 'open', 10.5, TIMESTAMP '2024-01-15 05:00:00', DATE '2024-01-14'), (2, NULL, -1, NULL, NULL)`);
    return {
      accepts: async (sql) => {
        await c.runAndReadAll(sql);
      },
      close: () => {
        c.closeSync();
        db.closeSync();
      },
    };
  },
  async athena() {
    const parser = new Parser();
    return {
      // Trino takes `""` inside a quoted name; the grammar does not (no name here holds one).
      accepts: async (sql) => void parser.astify(sql, { database: 'trino' }),
      close: () => undefined,
    };
  },
};

/** SQL that no engine's dialect changes, expected as it is for every engine. */
const same = (sql: string) => Object.fromEntries(ENGINE_NAMES.map((e) => [e, sql])) as Record<RegisteredEngine, string>;

/** Each check, and the SQL an engine is sent for it: an aggregate as `SELECT … FROM "stg"`, a query as it is. */
const CATALOGUE: { readonly check: Record<string, unknown>; readonly sql: Record<RegisteredEngine, string> }[] = [
  { check: { type: 'row_count', min: 1, max: 1000 }, sql: same('SELECT count(*) AS "rows" FROM "stg"') },
  { check: { type: 'row_count_change', maxIncreasePercent: 50 }, sql: same('SELECT count(*) AS "rows" FROM "stg"') },
  { check: { type: 'not_null', columns: ['id'] }, sql: same('SELECT count(*) - count("id") AS "nulls", count(*) AS "rows" FROM "stg"') },
  {
    check: { type: 'unique', columns: ['id', 'status'] },
    sql: same(
      'SELECT coalesce(d.duplicates, 0) AS duplicates, r.n AS "rows" FROM (SELECT count(*) AS n FROM "stg") r CROSS JOIN (SELECT sum(n - 1) AS duplicates FROM ' +
        '(SELECT count(*) AS n FROM "stg" WHERE "id" IS NOT NULL AND "status" IS NOT NULL GROUP BY "id", "status" HAVING count(*) > 1) g) d',
    ),
  },
  {
    check: { type: 'accepted_values', column: 'status', values: ['open', "it's"] },
    sql: same(
      `SELECT count(CASE WHEN "status" IS NOT NULL AND "status" NOT IN ('open', 'it''s') THEN 1 END) AS "outside", count(*) AS "rows", ` +
        `min(CASE WHEN "status" IS NOT NULL AND "status" NOT IN ('open', 'it''s') THEN CAST("status" AS VARCHAR) END) AS "example" FROM "stg"`,
    ),
  },
  {
    check: { type: 'range', column: 'updated_at', min: '2024-01-01', max: '2024-02-01T06:00:00Z' },
    sql: same(
      `SELECT count(CASE WHEN "updated_at" IS NOT NULL AND ("updated_at" < TIMESTAMP '2024-01-01 00:00:00.000' OR "updated_at" > TIMESTAMP '2024-02-01 06:00:00.000') THEN 1 END) AS "outside", ` +
        `count(*) AS "rows", min("updated_at") AS "min", max("updated_at") AS "max" FROM "stg"`,
    ),
  },
  {
    check: { type: 'regex', column: 'status', pattern: "^[a-z']+$" },
    sql: {
      duckdb: `SELECT count(CASE WHEN "status" IS NOT NULL AND NOT regexp_matches("status", '^[a-z'']+$') THEN 1 END) AS "unmatched", count(*) AS "rows" FROM "stg"`,
      athena: `SELECT count(CASE WHEN "status" IS NOT NULL AND NOT regexp_like("status", '^[a-z'']+$') THEN 1 END) AS "unmatched", count(*) AS "rows" FROM "stg"`,
    },
  },
  {
    check: { type: 'string_length', column: 'status', min: 3, max: 10 },
    sql: same(
      `SELECT count(CASE WHEN "status" IS NOT NULL AND (length("status") < 3 OR length("status") > 10) THEN 1 END) AS "outside", count(*) AS "rows", ` +
        `min(length("status")) AS "shortest", max(length("status")) AS "longest" FROM "stg"`,
    ),
  },
  { check: { type: 'freshness', column: 'updated_at', maxLag: 'PT6H' }, sql: same('SELECT max("updated_at") AS "newest", count(*) AS "rows" FROM "stg"') },
  {
    check: { type: 'custom_sql', sql: 'SELECT id FROM {{ table }} WHERE amount < 0', sampleSize: 0 },
    sql: same(
      'SELECT c."__dropkit_failing", s.* FROM (SELECT count(*) AS "__dropkit_failing" FROM (\nSELECT id FROM "stg" WHERE amount < 0\n) f) c ' +
        'LEFT JOIN (SELECT * FROM (\nSELECT id FROM "stg" WHERE amount < 0\n) f LIMIT 0) s ON TRUE',
    ),
  },
];

/** The profile's pieces that differ by engine (distinct counts, quantiles, epoch seconds), on a DOUBLE and a DATE column. */
const PROFILE: Record<RegisteredEngine, Record<string, string>> = {
  duckdb: {
    p0_distinct: 'approx_count_distinct("amount")',
    p0_quantiles: `array_to_string(approx_quantile(CAST("amount" AS DOUBLE), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]), ',')`,
    p1_mean: 'avg(epoch("day"))',
  },
  athena: {
    p0_distinct: 'approx_distinct("amount")',
    p0_quantiles: `array_join(approx_percentile(CAST("amount" AS DOUBLE), ARRAY[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]), ',')`,
    p1_mean: 'avg(to_unixtime(CAST("day" AS TIMESTAMP)))',
  },
};

function sentSql(config: Record<string, unknown>, target: CheckTarget): string {
  const parsed = checkSchema.parse(config) as CheckConfig;
  const definition = checkDefinition(parsed.type)!;
  const [compiled, ...more] = definition.compile(definition.schema.parse(parsed), target);
  expect(more).toEqual([]);
  if (compiled.kind === 'aggregate')
    return `SELECT ${Object.entries(compiled.expressions)
      .map(([k, e]) => `${e} AS "${k}"`)
      .join(', ')} FROM ${target.table}`;
  if (compiled.kind === 'query') return compiled.sql;
  throw new Error(`${compiled.name} compiled to ${compiled.kind}`);
}

describe('the engine registry', () => {
  it('lists each engine under the name its dialect gives', () => {
    for (const [name, dialect] of Object.entries(ENGINE_DIALECTS)) expect(dialect.name).toBe(name);
    expect(ENGINE_NAMES).toEqual(['duckdb', 'athena']);
  });

  it('names the known engines when asked for another', () => {
    expect(engineDialect('athena')).toBe(ENGINE_DIALECTS.athena);
    expect(() => engineDialect('bigquery')).toThrow('"bigquery" is not an engine dropkit knows; use one of duckdb, athena');
    expect(() => engineDialect('toString')).toThrow(/not an engine/);
  });
});

describe.each(ENGINE_NAMES)('check SQL on %s', (engine) => {
  const dialect = ENGINE_DIALECTS[engine];
  const target: CheckTarget = { table: TABLE, columns: COLUMNS, dialect, slot: SLOT, previous: PREVIOUS };
  let acceptor: Acceptor;
  const accepts = (sql: string) => acceptor.accepts(sql);
  beforeAll(async () => {
    acceptor = await ACCEPTS[engine]();
  });
  afterAll(() => acceptor.close());

  it('covers every check type that sends SQL (schema and drift are judged from the staged columns and the profile)', () => {
    const types = new Set(CATALOGUE.map((c) => c.check.type));
    const judgedWithoutSql = ['schema', 'drift'];
    expect([...types].sort()).toEqual(
      CHECK_TYPES.map((c) => c.type)
        .filter((t) => !judgedWithoutSql.includes(t))
        .sort(),
    );
  });

  it('has an acceptor that can refuse: broken SQL fails it', async () => {
    await expect(accepts('SELEC 1 FROM "stg"')).rejects.toThrow();
  });

  it.each(CATALOGUE.map((c) => [c.check.type as string, c] as const))('compiles %s to the SQL expected, which the engine accepts', async (_type, entry) => {
    const sql = sentSql(entry.check, target);
    expect(sql).toBe(entry.sql[engine]);
    await accepts(sql);
  });

  it('profiles with the engine’s own functions, in SQL the engine accepts', async () => {
    const columns = [COLUMNS[2], COLUMNS[4]];
    const expressions = profileExpressions(columns, dialect);
    expect(expressions).toMatchObject(PROFILE[engine]);
    await accepts(
      `SELECT ${Object.entries(expressions)
        .map(([k, e]) => `${e} AS "${k}"`)
        .join(', ')} FROM ${TABLE}`,
    );
    await accepts(topValuesSql(TABLE, ['status'], dialect));
  });

  it('is what validateStaged sends to an engine of this dialect', async () => {
    const sent: string[] = [];
    const recording = {
      dialect,
      async query(sql: string) {
        sent.push(sql);
        return [new Proxy({}, { get: () => 1 })];
      },
    } as unknown as QueryEngine;
    const staged: StagedTable = {
      engine,
      table: TABLE,
      location: 'x/',
      format: 'parquet',
      rowCount: 2,
      columns: COLUMNS,
      execution: { executionId: null, rows: 2, bytesScanned: null, engineMillis: null },
    };
    const regex = CATALOGUE.find((c) => c.check.type === 'regex')!;
    await validateStaged([checkSchema.parse(regex.check) as CheckConfig], staged, recording, { slot: SLOT, previous: null });
    const regexPart = /(NOT regexp_\w+\("status", '[^']*(?:''[^']*)*'\))/.exec(regex.sql[engine])![1];
    expect(sent.some((sql) => sql.includes(regexPart))).toBe(true);
  });
});
