import { DuckDBInstance } from '@duckdb/node-api';
import { singleSelectProblem, scanParameters } from '../../lib/core/sql-parameters';

/** Hostile check SQL: each tries to hide a second statement or a closing parenthesis from the scanner. */
const CASES = [
  String.raw`SELECT * FROM {{ table }} WHERE label = E'\'' ) ; DROP TABLE x; SELECT (1 --'`,
  String.raw`SELECT * FROM {{ table }} WHERE label = e'\'' ; COPY (SELECT 1) TO '/tmp/x' ; SELECT '`,
  String.raw`SELECT * FROM {{ table }} WHERE label = E'\\' ) ; SELECT ('`,
  String.raw`SELECT * FROM {{ table }} WHERE label = E'it''s' AND 1 = 1`,
  String.raw`SELECT * FROM {{ table }} /* /* */ ) ; SELECT ( */ WHERE 1 = 1`,
  String.raw`SELECT * FROM {{ table }} /* */ ) ; SELECT ( /* */ WHERE 1 = 1`,
  String.raw`SELECT * FROM {{ table }} WHERE label = $$ ) ; $$`,
  String.raw`SELECT * FROM {{ table }} WHERE label = $q$ ) ; $q$`,
  String.raw`SELECT * FROM {{ table }} WHERE label = 'a\' ) ; SELECT (1'`,
  'SELECT * FROM {{ table }} -- ) ; SELECT (\nWHERE 1 = 1',
  'SELECT * FROM {{ table }} WHERE "a"")" = 1',
  'SELECT * FROM {{ table }} WHERE `x` = 1 ) ; SELECT (`',
  String.raw`SELECT * FROM {{ table }} WHERE x = E'\\'' ) ; SELECT (1 --'`,
];

/**
 * Issue 14 papercut: `check` and the engine must not disagree on where a check's SQL ends. Every
 * text the shared lexer accepts is exactly one statement to DuckDB once wrapped as dropkit wraps
 * it, and the E'\'' escape that fooled the old scanner is refused.
 */
describe('the SQL lexer agrees with DuckDB on hostile check SQL', () => {
  let extract: (sql: string) => Promise<number | 'error'>;
  let close: () => void;
  beforeAll(async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    extract = async (sql) => {
      try {
        return (await c.extractStatements(sql)).count;
      } catch {
        return 'error';
      }
    };
    close = () => {
      c.closeSync();
      db.closeSync();
    };
  });
  afterAll(() => close());

  it.each(CASES)('never accepts what DuckDB reads as more than the one wrapped SELECT: %s', async (sql) => {
    const wrapped = `SELECT count(*) FROM (\n${sql.replace(/\{\{\s*table\s*\}\}/g, 't')}\n) f`;
    const count = await extract(wrapped);
    if (singleSelectProblem(sql) === undefined) expect(count).toBe(1);
    else expect(singleSelectProblem(sql)).toMatch(/more than one statement|closes a parenthesis|leaves a parenthesis open/);
  });

  it("refuses the E'\\'' escape that hides a second statement, naming why", () => {
    expect(singleSelectProblem(CASES[0])).toBe('it closes a parenthesis it did not open');
    expect(singleSelectProblem(CASES[1])).toBe('it holds more than one statement (a ";" before the end)');
    expect(singleSelectProblem(CASES[3])).toBeUndefined(); // an E-string that hides nothing is fine
  });

  it('finds no parameter inside an E-string, and finds the one after it', () => {
    expect(scanParameters(String.raw`SELECT E'\'$a' AS x WHERE y = $b`).map((u) => u.name)).toEqual(['b']);
  });
});
