import { athenaDialect } from '../../lib/adapters/athena/athena-dialect';
import { notOneSelect, sqlLiteral } from '../../lib/adapters/athena/athena-sql';
import { duckdbDialect } from '../../lib/adapters/duckdb/duckdb-dialect';
import { scanParameters, singleSelectProblem, toPositional } from '../../lib/core/sql-parameters';
import { POSTGRES_LEXING, quoteIdent, STANDARD_LEXING, statementShape, stringLiteral } from '../../lib/core/sql-text';
import { ENGINE_DIALECTS } from '../../lib/engines';
import type { QueryParameter } from '../../lib/core/ports/query-engine';

const who: QueryParameter[] = [{ name: 'who', type: 'VARCHAR', value: 'x' }];

describe('one SQL lexer, read by each dialect’s rules', () => {
  it('gives each engine the rules its own lexer follows', () => {
    expect(duckdbDialect.lexing).toBe(POSTGRES_LEXING);
    expect(athenaDialect.lexing).toBe(STANDARD_LEXING);
  });

  /*
   * Texts the three old lexers read differently: scanParameters always read DuckDB's way (also for
   * Athena's SQL), the Athena guard had its own blanking lexer, and dollar quotes were strings for Trino too.
   */
  it('counts a ? inside what only DuckDB reads as a nested comment for Athena, not for DuckDB', () => {
    const sql = 'SELECT * FROM t WHERE a = 1 /* /* */ AND b = ? /* */ */';
    expect(scanParameters(sql, duckdbDialect.lexing)).toHaveLength(0);
    expect(scanParameters(sql, athenaDialect.lexing).map((u) => [u.kind, u.inWhere])).toEqual([['positional', true]]);
  });

  it('compiles a $name Trino sees (after a comment that only DuckDB nests) into Athena’s positional parameters', () => {
    const sql = 'SELECT * FROM t WHERE a = $who /* /* */ OR b = $who /* */ */';
    expect(toPositional(sql, who, athenaDialect.lexing).sql).toBe('SELECT * FROM t WHERE a = ? /* /* */ OR b = ? /* */ */');
    expect(toPositional(sql, who, duckdbDialect.lexing).sql).toBe('SELECT * FROM t WHERE a = ? /* /* */ OR b = $who /* */ */');
  });

  it("reads E'\\'' as one string for DuckDB and as an unclosed one for Trino", () => {
    const sql = String.raw`SELECT E'\'' AS q WHERE x = ?`;
    expect(scanParameters(sql, duckdbDialect.lexing)).toHaveLength(1);
    expect(scanParameters(sql, athenaDialect.lexing)).toHaveLength(0);
  });

  it('reads $$…$$ as a string only for DuckDB: Trino has no dollar quotes, so the ; inside counts', () => {
    const sql = 'SELECT $$ ; DROP TABLE x ; $$ AS s FROM t';
    expect(statementShape(sql, duckdbDialect.lexing).severalStatements).toBe(false);
    expect(statementShape(sql, athenaDialect.lexing)).toMatchObject({ severalStatements: true, breakout: 'semicolon' });
    // The check's own SQL must be safe for every engine: refused (the old lexer let Trino read $$ as a string).
    expect(singleSelectProblem('SELECT $$ ; DROP TABLE x ; $$ AS s FROM {{ table }}')).toBe('it holds more than one statement (a ";" before the end)');
    // And Athena's guard, on the same lexer, refuses it too.
    expect(notOneSelect(sql)).toMatch(/holds several/);
  });

  it('takes the first word as a word: SELECT_x is not SELECT (the old guard matched letters only)', () => {
    expect(notOneSelect('SELECT_x FROM t')).toMatch(/starts with SELECT_X/);
    expect(notOneSelect('(SELECT 1)')).toBeUndefined();
    expect(notOneSelect('VALUES (1)')).toBeUndefined();
    expect(notOneSelect('DROP TABLE t')).toMatch(/starts with DROP/);
  });

  /** Hostile check SQL: what dropkit check accepts, the Athena guard must accept, and nothing more than one statement. */
  const HOSTILE = [
    String.raw`SELECT * FROM {{ table }} WHERE label = E'\'' ) ; DROP TABLE x; SELECT (1 --'`,
    String.raw`SELECT * FROM {{ table }} /* /* */ ) ; SELECT ( */ WHERE 1 = 1`,
    String.raw`SELECT * FROM {{ table }} WHERE label = $q$ ; $q$`,
    `SELECT * FROM {{ table }} WHERE a = 'it''s' -- ; DROP\n`,
    `SELECT * FROM {{ table }} WHERE "a;b" = 1;`,
    'WITH x AS (SELECT 1) SELECT * FROM x, {{ table }}',
  ];
  it.each(HOSTILE)('never lets the check compiler accept what the Athena guard refuses: %s', (sql) => {
    const wrapped = `SELECT count(*) FROM (${sql.replace(/\{\{\s*table\s*\}\}/g, 't').replace(/[\s;]+$/, '')}) f`;
    if (singleSelectProblem(sql) === undefined) expect(notOneSelect(wrapped)).toBeUndefined();
    else expect(singleSelectProblem(sql)).toMatch(/statement|parenthesis/);
  });
});

describe('one quoting and one literal function, used by every dialect', () => {
  it('doubles the quote inside, and nothing else', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(stringLiteral(String.raw`it's \ ok`)).toBe(String.raw`'it''s \ ok'`);
  });

  it.each(Object.values(ENGINE_DIALECTS))('$name quotes and escapes with them', (dialect) => {
    expect(dialect.quoteIdent('odd "name"')).toBe(quoteIdent('odd "name"'));
    expect(dialect.string("x'; DROP TABLE t; --")).toBe(stringLiteral("x'; DROP TABLE t; --"));
    expect(dialect.timestamp('2024-01-15T06:00:00Z')).toBe(`TIMESTAMP '2024-01-15 06:00:00.000'`);
  });

  it("keeps an Athena execution parameter holding ' one literal, through the same function", () => {
    expect(sqlLiteral({ name: 'who', type: 'VARCHAR', value: "x'; DROP TABLE t; --" })).toBe(stringLiteral("x'; DROP TABLE t; --"));
  });
});
