import { referencedParameters, scanParameters, toPositional } from '../../lib/core/sql-parameters';
import { sqlLiteral } from '../../lib/adapters/athena/athena-sql';
import { ConfigError, ConfigProblem } from '../../lib/core/errors';
import { loadProject } from '../../lib/project/load-project';
import { PROJECT_YAML, dailyFeed, tempProject } from '../helpers/temp-project';
import type { QueryParameter } from '../../lib/core/ports/query-engine';

const params: QueryParameter[] = [
  { name: 'window_start', type: 'TIMESTAMP', value: '2024-01-15T00:00:00.000Z' },
  { name: 'who', type: 'VARCHAR', value: "x'; DROP TABLE t; --" },
];

describe('scanning feed SQL for parameters', () => {
  it('finds $name outside literals, quoted names, comments and dollar-quoted strings', () => {
    const sql = `-- $commented\nSELECT '$in_string', "$quoted", $$ $dollar $$, $tag$ $tagged $tag$ FROM t /* $block */ WHERE a = $who AND b >= $window_start`;
    expect(referencedParameters(sql)).toEqual(['who', 'window_start']);
  });

  it('reports $1 and ? as positional parameters', () => {
    expect(scanParameters('SELECT * FROM t WHERE a = $1 AND b = ?').map((u) => [u.kind, u.name])).toEqual([
      ['numbered', '1'],
      ['positional', '?'],
    ]);
  });

  it('knows whether a parameter stands inside a WHERE clause, a subquery of one included', () => {
    const inWhere = (sql: string) => scanParameters(sql).map((u) => u.inWhere);
    expect(inWhere('SELECT $a FROM t WHERE x = $b GROUP BY y HAVING count(*) > $c')).toEqual([false, true, false]);
    expect(inWhere('SELECT * FROM t WHERE x IN (SELECT y FROM u WHERE z = $a) AND w = lower($b)')).toEqual([true, true]);
    expect(inWhere('SELECT * FROM t JOIN u ON u.id = $a WHERE t.x = 1 LIMIT $b')).toEqual([false, false]);
    expect(inWhere('SELECT * FROM (SELECT * FROM t WHERE d >= $a) s ORDER BY $b')).toEqual([true, false]);
  });
});

describe('compiling $name to positional parameters', () => {
  it('replaces each use with ? and lists the parameters in order of use, repeats included', () => {
    const compiled = toPositional('SELECT * FROM t WHERE a = $who AND b >= $window_start AND c <> $who', params);
    expect(compiled.sql).toBe('SELECT * FROM t WHERE a = ? AND b >= ? AND c <> ?');
    expect(compiled.parameters.map((p) => p.name)).toEqual(['who', 'window_start', 'who']);
  });

  it('leaves text that only looks like a parameter alone', () => {
    expect(toPositional(`SELECT '$who' AS s -- $who\nFROM t`, params).sql).toBe(`SELECT '$who' AS s -- $who\nFROM t`);
  });

  it('names an unknown parameter and the known ones', () => {
    expect(() => toPositional('SELECT $nope', params)).toThrow(/\$nope.*\$window_start, \$who/);
  });
});

describe('parameters as typed SQL literals (Athena execution parameters)', () => {
  it("keeps a value holding ' or ; one string literal", () => {
    expect(sqlLiteral(params[1])).toBe(`'x''; DROP TABLE t; --'`);
  });

  it('renders each type as a literal Athena reads back exactly', () => {
    expect(sqlLiteral(params[0])).toBe(`TIMESTAMP '2024-01-15 00:00:00.000'`);
    expect(sqlLiteral({ name: 'n', type: 'BIGINT', value: 9007199254740991 })).toBe('9007199254740991');
    expect(sqlLiteral({ name: 'd', type: 'DOUBLE', value: 0.1 })).toBe(`DOUBLE '0.1'`);
    expect(sqlLiteral({ name: 'b', type: 'BOOLEAN', value: false })).toBe('false');
  });

  it('refuses an integer that is not exact as a number', () => {
    expect(() => sqlLiteral({ name: 'n', type: 'BIGINT', value: 2 ** 53 })).toThrow(/not a safe integer/);
  });
});

describe('dropkit check on parameter placement', () => {
  function problemsOf(sql: string, extraFeed = ''): ConfigProblem[] {
    const p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed() + extraFeed, 'feeds/daily.sql': sql });
    try {
      loadProject(p.dir);
      return [];
    } catch (e) {
      // The temp project's source file is not there: only the query's problems matter here.
      if (e instanceof ConfigError) return e.problems.filter((x) => x.path.startsWith('query'));
      throw e;
    } finally {
      p.cleanup();
    }
  }

  it('rejects a parameter outside WHERE in SQL that runs on Athena, naming the file, the parameter and the fix', () => {
    const [problem, ...rest] = problemsOf('SELECT $window_start AS s, * FROM events WHERE ts < $window_end');
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ file: 'feeds/daily.yaml', path: 'query', value: '$window_start' });
    expect(problem.message).toMatch(/daily\.sql line 1 .*outside a WHERE clause/);
    expect(problem.fix).toMatch(/query\.athena/);
  });

  it('accepts it in DuckDB-only SQL when Athena has its own file', () => {
    const problems = problemsOf('SELECT $window_start AS s, * FROM events', 'query:\n  sql: daily.sql\n  athena: daily.athena.sql\n');
    // The Athena file is missing here: that is the only problem.
    expect(problems.map((p) => p.path)).toEqual(['query.athena']);
  });

  it('rejects $1 and ?', () => {
    expect(problemsOf('SELECT * FROM events WHERE a = $1 AND b = ?').map((p) => p.value)).toEqual(['$1', '?']);
  });
});
