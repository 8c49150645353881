import { ConfigError } from '../../lib/core/errors';
import type { FeedDefinition } from '../../lib/core/feed/feed-definition';
import { feedSqlFor } from '../../lib/core/steps/stage';
import { ENGINE_NAMES } from '../../lib/engines';
import { loadProject } from '../../lib/project/load-project';
import { dailyFeed, PROJECT_YAML, tempProject } from '../helpers/temp-project';

const feed = { file: 'feeds/daily.yaml', sql: { duckdb: 'SELECT 1 AS d', athena: 'SELECT 1 AS a' } } as unknown as FeedDefinition;

describe('the feed SQL an engine runs', () => {
  it('is the one keyed by the engine dialect’s name', () => {
    expect(feedSqlFor(feed, 'duckdb')).toBe('SELECT 1 AS d');
    expect(feedSqlFor(feed, 'athena')).toBe('SELECT 1 AS a');
  });

  it('is refused for an engine the feed has no SQL for, naming the file, the field, the engine and the fix', () => {
    let error: unknown;
    try {
      feedSqlFor(feed, 'trino');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      {
        file: 'feeds/daily.yaml',
        path: 'query',
        message: 'has no SQL for the trino engine (it has SQL for duckdb, athena)',
        value: 'trino',
        fix: 'set query.trino or query.sql',
      },
    ]);
    // Not fooled by what every object has.
    expect(() => feedSqlFor(feed, 'constructor')).toThrow(ConfigError);
  });

  it('exists for every registered engine once the project is loaded, each from its own file where the feed gives one', () => {
    const p = tempProject({
      'dropkit.yaml': PROJECT_YAML,
      'feeds/daily.yaml': dailyFeed() + 'query:\n  sql: daily.sql\n  athena: daily.athena.sql\n',
      'feeds/daily.sql': 'SELECT 1 AS common FROM events WHERE ts < $window_end',
      'feeds/daily.athena.sql': 'SELECT 1 AS own FROM events WHERE ts < $window_end',
    });
    try {
      const [loaded] = loadProject(p.dir, { localSources: false }).feeds;
      expect(Object.keys(loaded.sql)).toEqual(ENGINE_NAMES);
      expect(feedSqlFor(loaded, 'duckdb')).toMatch(/common/);
      expect(feedSqlFor(loaded, 'athena')).toMatch(/own/);
      expect(loaded.sqlFiles).toEqual({ duckdb: 'daily.sql', athena: 'daily.athena.sql' });
    } finally {
      p.cleanup();
    }
  });
});
