import { join } from 'node:path';
import { locateSqlError, typedSql } from '../../lib/cli/compile-sql';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';
import { cli } from '../helpers/in-process-cli';

describe('check compiles every feed query against the declared sources', () => {
  let p: TempProject;
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => p.cleanup());

  it('passes a query that compiles and shows the columns it returns', async () => {
    const r = await cli(['check', '--project', p.dir, '--now', '2024-01-15T07:00:00Z']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  returns   id INTEGER, label VARCHAR, amount DECIMAL(10,2), happened_at TIMESTAMP');
  });

  it.each([
    [
      'an unknown column',
      'SELECT id, nope\nFROM events WHERE happened_at >= $window_start',
      /feeds\/daily\.sql:1:12: does not compile on DuckDB: Binder Error: Referenced column "nope" not found/,
    ],
    [
      'an unknown table',
      'SELECT id\nFROM evnts WHERE happened_at >= $window_start',
      /feeds\/daily\.sql:2:6: does not compile on DuckDB: Catalog Error: Table with name evnts does not exist! Did you mean "events"\?/,
    ],
    ['a syntax error', 'SELECT id,\n  label,,\nFROM events', /feeds\/daily\.sql:2:9: does not compile on DuckDB: Parser Error: syntax error at or near ","/],
    [
      // Untyped, DuckDB would take $window_start for a string here; bound, it is a TIMESTAMP.
      'a parameter used as a type it is not',
      'SELECT id FROM events\nWHERE upper($window_start) = label',
      /feeds\/daily\.sql:2:7: does not compile on DuckDB: Binder Error: No function matches the given name and argument types 'upper\(TIMESTAMP\)'/,
    ],
  ])('exits 2 on %s, naming file:line:column and the engine message', async (_what, sql, expected) => {
    p.write('feeds/daily.sql', sql);
    const r = await cli(['check', '--project', p.dir, '--now', '2024-01-15T07:00:00Z']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(expected);
  });

  it('exits 2 when orderBy names a column the query does not return', async () => {
    p.write('feeds/daily.yaml', dailyFeed() + 'orderBy: [id, nope]\n');
    const r = await cli(['check', '--project', p.dir, '--now', '2024-01-15T07:00:00Z']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('feeds/daily.yaml: orderBy: names column the query does not return (got ["nope"])');
  });

  it('plan shows the SQL and the checks a run would run', async () => {
    const r = await cli(['plan', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  checks        row_count (row_count, error); unique (unique, error)\n');
    expect(r.stdout).toContain(
      '  sql           feeds/daily.sql\n    | SELECT id, label, amount, happened_at FROM events\n    | WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id\n',
    );
  });

  it('maps a position in the typed SQL back to the file', () => {
    const sql = 'SELECT $slot AS s, x\nWHERE t >= $window_start AND y';
    const typed = typedSql(sql, [
      { name: 'slot', type: 'TIMESTAMP', value: '2024-01-01T00:00:00Z' },
      { name: 'window_start', type: 'TIMESTAMP', value: '2024-01-01T00:00:00Z' },
    ]);
    expect(typed.sql).toBe('SELECT CAST($slot AS TIMESTAMP) AS s, x\nWHERE t >= CAST($window_start AS TIMESTAMP) AND y');
    for (const token of ['x', 'y', 'AND', 't >=']) expect(typed.original(typed.sql.indexOf(token))).toBe(sql.indexOf(token));
    expect(typed.original(typed.sql.indexOf('CAST($window_start'))).toBe(sql.indexOf('$window_start'));
  });

  it('finds the column of a long line DuckDB shows cut short', () => {
    const long = `SELECT ${Array.from({ length: 40 }, (_, i) => `col_${i}`).join(', ')}, nope FROM events`;
    const at = long.indexOf('nope') + 1;
    const shown = long.slice(at - 60, at + 20);
    const message = `Binder Error: x\n\nLINE 1: ...${shown}...\n${' '.repeat('LINE 1: ...'.length + 59)}^`;
    expect(locateSqlError(message, long)).toEqual({ line: 1, column: at });
  });
});
