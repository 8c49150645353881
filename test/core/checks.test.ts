import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { openTestEngine, stage } from '../helpers/engine';
import { checkSchema, CheckConfig } from '../../lib/core/checks/registry';
import { duckdbDialect } from '../../lib/adapters/duckdb/duckdb-dialect';
import { uniqueCheck } from '../../lib/core/checks/unique';
import { assertPublishable, validateStaged } from '../../lib/core/steps/validate';
import type { StagedTable } from '../../lib/core/ports/query-engine';

const SLOT = {
  id: '20240115T060000Z',
  scheduledFor: '2024-01-15T06:00:00.000Z',
  dataInterval: { start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' },
  timezone: 'UTC',
  cron: '0 6 * * *',
};
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
  let engine: DuckDbEngine;
  let closeEngine: () => Promise<void>;
  let staged: StagedTable;
  beforeAll(async () => {
    ({ engine, cleanup: closeEngine } = await openTestEngine());
    // Ten rows; a NULL email twice; (3, 'c@x') twice; two rows whose key holds a NULL, alike.
    staged = await stage(engine, {
      runId: 'compiled',
      sql: `SELECT * FROM (VALUES (1, 'a@x'), (2, 'b@x'), (3, 'c@x'), (3, 'c@x'), (4, NULL), (4, NULL), (5, 'e@x'), (6, 'f@x'), (7, 'g@x'), (8, 'h@x')) t(id, email)`,
    });
  });
  afterAll(async () => closeEngine());
  const run = (checks: unknown[]) => validateStaged(checks.map(parse), staged, engine, CONTEXT);

  it('runs row_count as one aggregate over the staged rows, judging it against its bounds', async () => {
    const report = await run([
      { type: 'row_count', min: 1, max: 10 },
      { type: 'row_count', max: 9, name: 'at most 9' },
    ]);
    expect(report.checks.map((c) => [c.name, c.observed, c.outcome])).toEqual([
      ['row_count', 10, 'pass'],
      ['at most 9', 10, 'fail'],
    ]);
  });

  it('runs not_null with one result per column', async () => {
    const report = await run([{ type: 'not_null', columns: ['id', 'email'] }]);
    expect(report.checks.map((c) => [c.name, c.observed, c.outcome])).toEqual([
      ['not_null(id)', 0, 'pass'],
      ['not_null(email)', 2, 'fail'],
    ]);
  });

  it('runs a multi-column unique that counts repeated keys and leaves keys with a NULL out', async () => {
    const report = await run([{ type: 'unique', columns: ['id', 'email'] }]);
    // (3, 'c@x') repeats once; (4, NULL) twice is not compared.
    expect(report.checks.map((c) => [c.name, c.observed, c.outcome])).toEqual([['unique(id, email)', 1, 'fail']]);
  });

  it('refuses a custom_sql check that would close its wrapper or run a second statement, at check time', () => {
    const escape = (sql: string) => checkSchema.safeParse({ type: 'custom_sql', sql });
    const closes = escape(`SELECT * FROM {{ table }}) f; COPY (SELECT 42) TO '/tmp/x'; SELECT * FROM (SELECT 1`);
    expect(closes.success).toBe(false);
    expect(JSON.stringify(closes.error?.issues)).toMatch(/closes a parenthesis it did not open/);
    expect(JSON.stringify(escape(`SELECT * FROM {{ table }}; DROP TABLE x`).error?.issues)).toMatch(/more than one statement/);
    expect(JSON.stringify(escape(`COPY {{ table }} TO '/tmp/x'`).error?.issues)).toMatch(/must be a SELECT/);
    // Parentheses, semicolons and keywords inside literals and comments are data.
    expect(escape(`SELECT * FROM {{ table }} WHERE note = ')' -- ;\n AND x <> ';'`).success).toBe(true);
  });

  it('and the engine runs nothing but one SELECT even when handed such SQL', async () => {
    const target = join(tmpdir(), `dropkit-escape-${process.pid}.csv`);
    await expect(engine.query(`SELECT 1) f; COPY (SELECT 42) TO '${target}'; SELECT (1`, staged)).rejects.toMatchObject({ name: 'QueryFailedError' });
    expect(existsSync(target)).toBe(false);
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
      [
        parse({ type: 'not_null', columns: ['id'], maxFailing: 2 }),
        parse({ type: 'not_null', columns: ['id'], maxFailingFraction: 0.34 }),
        parse({ type: 'not_null', columns: ['id'], maxFailingFraction: 0.3 }),
      ],
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
    const report = await validateStaged(
      [parse({ type: 'unique', columns: ['id'] }), parse({ type: 'not_null', columns: ['id'] }), parse({ type: 'row_count', min: 10, max: 10 })],
      clean,
      engine,
      CONTEXT,
    );
    expect(report.status).toBe('pass');
    expect(report.checks.every((c) => c.outcome === 'pass')).toBe(true);
  });
});
