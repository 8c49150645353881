import { ConfigError } from '../../lib/core/errors';
import { loadProject } from '../../lib/project/load-project';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, tempProject } from '../helpers/temp-project';

describe('calendar exceptions in project and feed files', () => {
  it('are loaded from both files', () => {
    const p = tempProject({
      'dropkit.yaml': `${PROJECT_YAML}calendar:\n  exceptDates: ["2024-12-25"]\n`,
      'feeds/daily.yaml': `${dailyFeed()}calendar:\n  exceptDates: ["2024-02-29"]\n`,
      'feeds/daily.sql': DAILY_SQL,
      'data/events.parquet': 'only its presence is checked here',
    });
    try {
      const project = loadProject(p.dir);
      expect(project.spec.calendar).toEqual({ exceptDates: ['2024-12-25'] });
      expect(project.feeds[0].spec.calendar).toEqual({ exceptDates: ['2024-02-29'] });
    } finally {
      p.cleanup();
    }
  });

  function problemsOf(projectYaml: string, feedYaml: string) {
    const p = tempProject({
      'dropkit.yaml': projectYaml,
      'feeds/daily.yaml': feedYaml,
      'feeds/daily.sql': DAILY_SQL,
      'data/events.parquet': 'only its presence is checked here',
    });
    try {
      loadProject(p.dir);
      return [];
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    } finally {
      p.cleanup();
    }
  }

  it('reject a date that is not YYYY-MM-DD, naming the file, field and value', () => {
    expect(problemsOf(`${PROJECT_YAML}calendar:\n  exceptDates: ["25/12/2024"]\n`, dailyFeed())).toEqual([
      expect.objectContaining({
        file: 'dropkit.yaml',
        path: 'calendar.exceptDates.0',
        value: '25/12/2024',
        message: 'must be a date YYYY-MM-DD, e.g. 2024-12-25',
      }),
    ]);
  });

  it('reject a date that does not exist', () => {
    expect(problemsOf(PROJECT_YAML, `${dailyFeed()}calendar:\n  exceptDates: ["2024-02-29", "2023-02-29"]\n`)).toEqual([
      expect.objectContaining({
        file: 'feeds/daily.yaml',
        path: 'calendar.exceptDates.1',
        value: '2023-02-29',
        message: 'is not a date that exists (check day and month)',
      }),
    ]);
  });
});
