import { Parser } from 'node-sql-parser';
import { athenaStageStatement } from '../../lib/adapters/athena/athena-engine';
import { canonicalSelect, unloadSql } from '../../lib/adapters/athena/athena-sql';
import { athenaDialect } from '../../lib/adapters/athena/athena-dialect';
import { engineDialect } from '../../lib/engines';
import type { CheckTarget, PreviousDrop } from '../../lib/core/checks/check-types';
import { checkDefinition, checkSchema, CheckConfig, CHECK_TYPES } from '../../lib/core/checks/registry';
import { validateStaged } from '../../lib/core/steps/validate';
import type { ColumnSchema, QueryEngine, StagedTable } from '../../lib/core/ports/query-engine';

/*
 * No Trino runs here, so every SQL text the check compiler can emit for Athena is parsed with
 * node-sql-parser's Trino grammar: the SQL a validation run actually sends (through
 * validateStaged over a recording engine: the shared aggregate scan, each aggregate alone, every
 * query check), for every check type and tolerance variant, plus the engine's own statements.
 */

const parser = new Parser();
/**
 * Trino takes `""` inside a quoted identifier for one `"`; the grammar does not, so such
 * identifiers are renamed before parsing (string literals are left alone).
 */
function withPlainIdentifiers(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|"((?:[^"]|"")*)"/g, (token, ident: string | undefined) =>
    ident === undefined ? token : `"${ident.replace(/""/g, '_')}"`,
  );
}
function parsesAsTrino(sql: string): void {
  try {
    parser.astify(withPlainIdentifiers(sql), { database: 'trino' });
  } catch (error) {
    throw new Error(`not Trino SQL:\n${sql}\n${(error as Error).message.slice(0, 300)}`, { cause: error });
  }
}

const SLOT = {
  id: '20240115T060000Z',
  scheduledFor: '2024-01-15T06:00:00.000Z',
  dataInterval: { start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' },
  timezone: 'UTC',
  cron: '0 6 * * *',
};
const PREVIOUS: PreviousDrop = { runId: 'run-prev', slot: '20240114T060000Z', rowCount: 8 };
const COLUMNS: ColumnSchema[] = [
  { name: 'id', type: 'INTEGER', nullable: true },
  { name: 'status', type: 'VARCHAR', nullable: true },
  { name: 'amount', type: 'DECIMAL(12,2)', nullable: true },
  { name: 'ratio', type: 'DOUBLE', nullable: true },
  { name: 'updated_at', type: 'TIMESTAMP', nullable: true },
  { name: 'day', type: 'DATE', nullable: true },
  { name: 'active', type: 'BOOLEAN', nullable: true },
  { name: 'odd "name"', type: 'VARCHAR', nullable: true },
];
const STAGED: StagedTable = {
  engine: 'athena',
  table: '"dropkit_staging"."stg_run_a1_0123456789ab"',
  location: '_staging/run/a1/staged/stg_run_a1_0123456789ab/',
  format: 'parquet',
  rowCount: 10,
  columns: COLUMNS,
  execution: { executionId: 'q', rows: 10, bytesScanned: 1, engineMillis: 1 },
};

const tolerances = [{}, { maxFailing: 3 }, { maxFailingFraction: 0.1 }];
/** Every check type, in every shape its compiler distinguishes. */
const CHECKS: unknown[] = [
  { type: 'row_count', min: 1 },
  { type: 'row_count', min: 1, max: 1000 },
  { type: 'row_count_change', maxIncreasePercent: 50, maxDecreasePercent: 10 },
  ...tolerances.flatMap((t) => [
    { type: 'not_null', columns: ['id', 'status', 'odd "name"'], ...t },
    { type: 'unique', columns: ['id'], ...t },
    { type: 'unique', columns: ['id', 'status'], ...t },
    { type: 'accepted_values', column: 'status', values: ['open', "it's"], ...t },
    { type: 'accepted_values', column: 'id', values: [1, 2, 3], ...t },
    { type: 'accepted_values', column: 'active', values: [true], ...t },
    { type: 'accepted_values', column: 'amount', values: ['1.50', 2], ...t },
    { type: 'accepted_values', column: 'day', values: ['2024-01-01'], ...t },
    { type: 'range', column: 'amount', min: 0, max: 100, ...t },
    { type: 'range', column: 'ratio', min: -0.5, exclusive: true, ...t },
    { type: 'range', column: 'updated_at', min: '2024-01-01', max: '2024-02-01T06:00:00Z', ...t },
    { type: 'range', column: 'day', max: '2024-02-01', exclusive: true, ...t },
    { type: 'regex', column: 'status', pattern: "^[a-z]+(-[0-9]{2})?'$", ...t },
    { type: 'regex', column: 'id', pattern: '^[0-9]+$', ...t },
    { type: 'string_length', column: 'status', min: 3, max: 10, ...t },
    { type: 'string_length', column: 'id', max: 4, ...t },
  ]),
  { type: 'freshness', column: 'updated_at', maxLag: 'PT6H' },
  { type: 'freshness', column: 'day', maxLag: 'P1D' },
  { type: 'schema', columns: [{ name: 'id', type: 'int' }] },
  // Judged from the profile, whose aggregates join the shared scan (and whose top values query is sent too).
  { type: 'drift' },
  { type: 'drift', columns: ['amount', 'status', 'updated_at'], maxKsDistance: 0.2, maxNewCategories: 0 },
  { type: 'custom_sql', sql: 'SELECT id, status FROM {{ table }} WHERE amount < 0 -- trailing comment;' },
  {
    type: 'custom_sql',
    sql: 'WITH neg AS (SELECT * FROM {{table}} WHERE amount < 0) SELECT count(*) AS n FROM neg HAVING count(*) > 0',
    sampleSize: 0,
    maxFailing: 2,
  },
];

/** An Athena engine that records the SQL it is asked to run and answers with plausible values. */
function recordingEngine(sent: string[], failShared = false): QueryEngine {
  const values: Record<string, unknown> = new Proxy({}, { get: () => 1 });
  return {
    dialect: athenaDialect,
    async query(sql: string) {
      sent.push(sql);
      if (failShared && sql.includes(' AS "c1_')) throw new Error('shared scan failed');
      return [values];
    },
  } as unknown as QueryEngine;
}

describe('Athena check SQL', () => {
  it('covers every check type', () => {
    const covered = new Set(CHECKS.map((c) => (c as { type: string }).type));
    expect([...covered].sort()).toEqual(CHECK_TYPES.map((c) => c.type).sort());
  });

  it('compiles with the athena dialect', () => {
    expect(engineDialect('athena')).toBe(athenaDialect);
    expect(athenaDialect.regexMatches('"a"', "^x'$")).toBe(`regexp_like("a", '^x''$')`);
    expect(athenaDialect.timestamp('2024-01-15T06:00:00Z')).toBe(`TIMESTAMP '2024-01-15 06:00:00.000'`);
  });

  it('parses as Trino for every query a validation run sends: the shared scan, each aggregate alone, every query check', async () => {
    const configs = CHECKS.map((c) => checkSchema.parse(c) as CheckConfig);
    for (const failShared of [false, true]) {
      const sent: string[] = [];
      const report = await validateStaged(configs, STAGED, recordingEngine(sent, failShared), { slot: SLOT, previous: PREVIOUS });
      expect(report.checks.filter((c) => c.outcome === 'error' && !/could not run: cannot read/.test(c.message))).toEqual([]);
      expect(sent.length).toBeGreaterThan(failShared ? 20 : 5);
      for (const sql of sent) parsesAsTrino(sql);
    }
  });

  it('parses as Trino for each check compiled alone', () => {
    const target: CheckTarget = { table: STAGED.table, columns: COLUMNS, dialect: athenaDialect, slot: SLOT, previous: PREVIOUS };
    for (const config of CHECKS) {
      const parsed = checkSchema.parse(config) as CheckConfig;
      const definition = checkDefinition(parsed.type)!;
      for (const compiled of definition.compile(definition.schema.parse(parsed), target)) {
        if (compiled.kind === 'aggregate')
          parsesAsTrino(
            `SELECT ${Object.entries(compiled.expressions)
              .map(([k, e]) => `${e} AS "${k}"`)
              .join(', ')} FROM ${STAGED.table}`,
          );
        if (compiled.kind === 'query') parsesAsTrino(compiled.sql);
        expect(compiled.kind).not.toBe('invalid');
      }
    }
  });

  it('gives accepted_values typed literals on number and date columns, which Trino will not compare with a string', () => {
    const target: CheckTarget = { table: STAGED.table, columns: COLUMNS, dialect: athenaDialect, slot: SLOT, previous: PREVIOUS };
    const compiledSql = (config: unknown) => {
      const parsed = checkSchema.parse(config) as CheckConfig;
      const c = checkDefinition(parsed.type)!.compile(checkDefinition(parsed.type)!.schema.parse(parsed), target)[0];
      return c.kind === 'aggregate' ? c.expressions.outside : '';
    };
    expect(compiledSql({ type: 'accepted_values', column: 'amount', values: ['1.50', 2] })).toContain(`"amount" NOT IN (1.5, 2)`);
    expect(compiledSql({ type: 'accepted_values', column: 'day', values: ['2024-01-01'] })).toContain(`"day" NOT IN (TIMESTAMP '2024-01-01 00:00:00.000')`);
    expect(compiledSql({ type: 'accepted_values', column: 'status', values: [1, 'a'] })).toContain(`"status" NOT IN ('1', 'a')`);
  });

  it('rejects SQL that is not Trino, so the parse above can fail', () => {
    expect(() => parsesAsTrino('SELECT * EXCLUDE (a) FROM t')).toThrow(/not Trino SQL/);
    expect(() => parsesAsTrino('SELEC a FROM t')).toThrow(/not Trino SQL/);
  });

  it('writes the engine’s own SELECTs as Trino: canonical text of every type, the row count, the stage query and the row-split UNLOAD query', () => {
    const everyType: ColumnSchema[] = [
      ...COLUMNS,
      { name: 'tz', type: 'TIMESTAMP(3) WITH TIME ZONE', nullable: true },
      { name: 'bin', type: 'VARBINARY', nullable: true },
      { name: 'arr', type: 'ARRAY(INTEGER)', nullable: true },
      { name: 'm', type: 'MAP(VARCHAR, INTEGER)', nullable: true },
    ];
    parsesAsTrino(canonicalSelect(STAGED.table, everyType));
    parsesAsTrino(`SELECT count(*) AS n FROM ${STAGED.table}`);
    const plan = athenaStageStatement(
      {
        runId: 'r',
        attemptId: 'a1',
        stagingPrefix: '_staging/r/a1/',
        sql: 'SELECT id FROM src WHERE day >= $d',
        parameters: [{ name: 'd', type: 'TIMESTAMP', value: '2024-01-01T00:00:00Z' }],
      },
      { workGroup: 'w', stagingDatabase: 'dropkit_staging', bucket: 'b' },
    );
    // The grammar has no CTAS WITH (…) nor UNLOAD: their SELECTs are parsed, the wrappers are asserted exactly elsewhere.
    parsesAsTrino(plan.statement.sql.replace(/^CREATE TABLE .*? AS /, '').replace('?', "TIMESTAMP '2024-01-01 00:00:00.000'"));
    const unload = unloadSql(STAGED.table, 's3://b/x/', 'zstd', 1000);
    parsesAsTrino(/^UNLOAD \((.*)\) TO /.exec(unload)![1]);
  });
});
