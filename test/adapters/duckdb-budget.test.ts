import { engineBudgetFromEnv, MEMORY_LIMIT_ENV, THREADS_ENV } from '../../lib/adapters/duckdb/duckdb-engine';
import { ConfigError } from '../../lib/core/errors';
import { openTestEngine, stage } from '../helpers/engine';

describe('the DuckDB engine memory budget', () => {
  it('reads the memory limit and threads from the environment', () => {
    expect(engineBudgetFromEnv({ [MEMORY_LIMIT_ENV]: '768MB', [THREADS_ENV]: '2' })).toEqual({ memoryLimit: '768MB', threads: 2 });
    expect(engineBudgetFromEnv({ [MEMORY_LIMIT_ENV]: ' 1.5 GiB ' })).toEqual({ memoryLimit: '1.5 GiB' });
    expect(engineBudgetFromEnv({})).toEqual({});
  });

  it('names the variable, the bad value and the fix for every bad setting', () => {
    let error: unknown;
    try {
      engineBudgetFromEnv({ [MEMORY_LIMIT_ENV]: 'lots', [THREADS_ENV]: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`environment: ${MEMORY_LIMIT_ENV}: is not a memory size (got "lots")`);
    expect(message).toContain('fix: give a size such as 1GB');
    expect(message).toContain(`environment: ${THREADS_ENV}: is not a whole number of threads (got "0")`);
  });

  describe('an engine opened', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    async function settings(options: Parameters<typeof openTestEngine>[0] = {}) {
      const t = await openTestEngine(options);
      try {
        const staged = await stage(t.engine, { runId: 'budget', sql: 'SELECT 1 AS x' });
        const [row] = await t.engine.query(`SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t`, staged);
        return { memory: String(row.m), threads: Number(row.t) };
      } finally {
        await t.cleanup();
      }
    }

    it('takes its budget from the environment', async () => {
      process.env[MEMORY_LIMIT_ENV] = '1GiB';
      process.env[THREADS_ENV] = '1';
      expect(await settings()).toEqual({ memory: '1.0 GiB', threads: 1 });
    });

    it('lets its options override the environment', async () => {
      process.env[MEMORY_LIMIT_ENV] = '1GiB';
      expect((await settings({ memoryLimit: '2GiB', threads: 2 })).memory).toBe('2.0 GiB');
    });

    it('defaults to 512 MiB per thread', async () => {
      delete process.env[MEMORY_LIMIT_ENV];
      expect(await settings({ threads: 1 })).toEqual({ memory: '512.0 MiB', threads: 1 });
      expect(await settings({ threads: 3 })).toEqual({ memory: '1.5 GiB', threads: 3 });
    });
  });
});
