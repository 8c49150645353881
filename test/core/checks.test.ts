import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { openTestEngine, stage } from '../helpers/engine';
import { checkSchema, CheckConfig } from '../../lib/core/checks/registry';
import { duckdbDialect } from '../../lib/core/checks/dialect';
import { notNullCheck } from '../../lib/core/checks/not-null';
import { rowCountCheck } from '../../lib/core/checks/row-count';
import { uniqueCheck } from '../../lib/core/checks/unique';
import { assertPublishable, validateStaged } from '../../lib/core/steps/validate';
import type { StagedTable } from '../../lib/ports/query-engine';

const SLOT = { id: '20240115T060000Z', scheduledFor: '2024-01-15T06:00:00.000Z', dataInterval: { start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' }, timezone: 'UTC', cron: '0 6 * * *' };
const CONTEXT = { slot: SLOT, previous: null };

const target = {
  ...CONTEXT,
  dialect: duckdbDialect,
  table: '"stg"',
  columns: [
    { name: 'id', type: 'BIGINT', nullable: true },
    { name: 'email', type: 'VARCHAR', nullable: true },
  ],
};

const parse = (c: unknown) => checkSchema.parse(c) as CheckConfig;

describe('check compilation', () => {
  it('compiles row_count to one aggregate over the staged table', () => {
    const [c] = rowCountCheck.compile(rowCountCheck.schema.parse({ type: 'row_count', min: 1, max: 10 }), target);
    expect(c).toMatchObject({ kind: 'aggregate', name: 'row_count', severity: 'error', expressions: { rows: 'count(*)' } });
  });

  it('compiles not_null to one result per column, quoting identifiers', () => {
    const compiled = notNullCheck.compile(notNullCheck.schema.parse({ type: 'not_null', columns: ['id', 'email'] }), target);
    expect(compiled.map((c) => c.name)).toEqual(['not_null(id)', 'not_null(email)']);
    expect(compiled[1]).toMatchObject({ kind: 'aggregate', expressions: { nulls: 'count(*) - count("email")' } });
  });

  it('compiles a multi-column unique to a grouped query that ignores NULL keys', () => {
    const [c] = uniqueCheck.compile(uniqueCheck.schema.parse({ type: 'unique', columns: ['id', 'email'] }), target);
    expect(c.kind).toBe('query');
    if (c.kind !== 'query') return;
    expect(c.sql).toContain('GROUP BY "id", "email" HAVING count(*) > 1');
    expect(c.sql).toContain('"id" IS NOT NULL AND "email" IS NOT NULL');
  });

  it('marks a check on a column the query does not return as invalid, naming the column and the available ones', () => {
    const [c] = uniqueCheck.compile(uniqueCheck.schema.parse({ type: 'unique', columns: ['nope'] }), target);
    expect(c).toMatchObject({ kind: 'invalid' });
    if (c.kind === 'invalid') expect(c.error).toMatch(/"nope" not in the staged result \(columns: id, email\)/);
  });

  it('defaults severity to error and rejects unknown fields', () => {
    expect(parse({ type: 'not_null', columns: ['id'] }).severity).toBe('error');
    expect(checkSchema.safeParse({ type: 'not_null', columns: ['id'], colums: ['x'] }).success).toBe(false);
  });
});

describe('validateStaged on DuckDB', () => {
  let engine: DuckDbEngine;
  let closeEngine: () => Promise<void>;
  let staged: StagedTable;
  beforeAll(async () => {
    ({ engine, cleanup: closeEngine } = await openTestEngine());
    // 6 rows: id 3 twice, id NULL twice (NULLs are not duplicates), one NULL email.
    staged = await stage(engine, {
      runId: 'checks',
      sql: `SELECT * FROM (VALUES (1, 'a@x'), (2, 'b@x'), (3, 'c@x'), (3, 'd@x'), (NULL, 'e@x'), (NULL, NULL)) t(id, email)`,
      parameters: [],
    });
  });
  afterAll(async () => closeEngine());

  it('records observed value, threshold and outcome for passing and failing checks', async () => {
    const report = await validateStaged(
      [parse({ type: 'row_count', min: 1, max: 5 }), parse({ type: 'not_null', columns: ['email'] }), parse({ type: 'unique', columns: ['id'] })],
      staged,
      engine,
      CONTEXT,
    );
    expect(report.checks.map((c) => [c.name, c.outcome, c.observed, c.threshold])).toEqual([
      ['row_count', 'fail', 6, { min: 1, max: 5 }],
      ['not_null(email)', 'fail', 1, { maxFailing: 0 }],
      ['unique(id)', 'fail', 1, { maxFailing: 0 }],
    ]);
    expect(report.status).toBe('fail');
    expect(() => assertPublishable('feed', report)).toThrow(/3 checks failed, nothing was published/);
  });

  it('turns a failing warn-severity check into warn, which does not block', async () => {
    const report = await validateStaged([parse({ type: 'not_null', columns: ['id'], severity: 'warn' })], staged, engine, CONTEXT);
    expect(report.checks[0]).toMatchObject({ outcome: 'warn', observed: 2 });
    expect(report.status).toBe('warn');
    expect(() => assertPublishable('feed', report)).not.toThrow();
  });

  it('accepts failures within a count or a fraction tolerance', async () => {
    const report = await validateStaged(
      [parse({ type: 'not_null', columns: ['id'], maxFailing: 2 }), parse({ type: 'not_null', columns: ['id'], maxFailingFraction: 0.34 }), parse({ type: 'not_null', columns: ['id'], maxFailingFraction: 0.3 })],
      staged,
      engine,
      CONTEXT,
    );
    expect(report.checks.map((c) => c.outcome)).toEqual(['pass', 'pass', 'fail']);
    expect(report.checks[1].threshold).toEqual({ maxFailingFraction: 0.34 });
  });

  it('records a check that cannot run as error, blocking when its severity is error', async () => {
    const report = await validateStaged([parse({ type: 'not_null', columns: ['missing'] }), parse({ type: 'row_count', min: 1 })], staged, engine, CONTEXT);
    expect(report.checks[0]).toMatchObject({ outcome: 'error', observed: null });
    expect(report.checks[0].message).toMatch(/could not run: column "missing"/);
    expect(report.checks[1].outcome).toBe('pass');
    expect(report.status).toBe('fail');
  });

  it('passes a clean table', async () => {
    const clean = await stage(engine, { runId: 'clean', sql: 'SELECT range AS id FROM range(10)', parameters: [] });
    const report = await validateStaged([parse({ type: 'unique', columns: ['id'] }), parse({ type: 'not_null', columns: ['id'] }), parse({ type: 'row_count', min: 10, max: 10 })], clean, engine, CONTEXT);
    expect(report.status).toBe('pass');
    expect(report.checks.every((c) => c.outcome === 'pass')).toBe(true);
  });
});
