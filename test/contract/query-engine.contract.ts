import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueryEngine, QueryParameter, StagedTable } from '../../lib/ports/query-engine';

/** Source rows every engine under contract must expose as table `src` (id, label, amount, happened_at). */
export const CONTRACT_SOURCE_SQL = `SELECT * FROM (VALUES
  (1, 'plain', 10.50, TIMESTAMP '2024-01-15 06:00:00'),
  (2, 'x''; DROP TABLE src; --', 0.05, TIMESTAMP '2024-01-15 07:30:00'),
  (3, NULL, NULL, TIMESTAMP '2024-01-16 00:00:00')
) t(id, label, amount, happened_at)`;

async function collect(engine: QueryEngine, staged: StagedTable): Promise<(string | null)[][]> {
  const rows: (string | null)[][] = [];
  for await (const batch of engine.streamText(staged)) rows.push(...batch);
  return rows;
}

/**
 * The QueryEngine contract: what the pipeline relies on, whatever the engine. Run over every
 * adapter (DuckDB for real now; Athena on a mocked client when it comes).
 */
export function queryEngineContract(name: string, makeEngine: () => Promise<QueryEngine>) {
  describe(`${name} (QueryEngine contract)`, () => {
    let engine: QueryEngine;
    beforeEach(async () => {
      engine = await makeEngine();
    });
    afterEach(async () => {
      await engine.close();
    });

    const window: QueryParameter[] = [
      { name: 'window_start', type: 'TIMESTAMP', value: '2024-01-15T00:00:00.000Z' },
      { name: 'window_end', type: 'TIMESTAMP', value: '2024-01-16T00:00:00.000Z' },
    ];

    it('stages the query once with its parameters bound, reporting rows and columns', async () => {
      const staged = await engine.stage({ runId: 'run-1', sql: 'SELECT id, label FROM src WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id', parameters: window });
      expect(staged.rowCount).toBe(2);
      expect(staged.columns.map((c) => c.name)).toEqual(['id', 'label']);
      expect(await collect(engine, staged)).toEqual([['1', 'plain'], ['2', "x'; DROP TABLE src; --"]]);
    });

    it('keeps a parameter value that looks like SQL a value', async () => {
      const evil = "x'; DROP TABLE src; --";
      const staged = await engine.stage({ runId: 'run-2', sql: 'SELECT id FROM src WHERE label = $who', parameters: [{ name: 'who', type: 'VARCHAR', value: evil }] });
      expect(await collect(engine, staged)).toEqual([['2']]);
      const [after] = await engine.query('SELECT count(*) AS n FROM src');
      expect(Number(after.n)).toBe(3);
    });

    it('re-staging the same run replaces the earlier table', async () => {
      await engine.stage({ runId: 'same', sql: 'SELECT id FROM src', parameters: [] });
      const again = await engine.stage({ runId: 'same', sql: 'SELECT id FROM src WHERE id = 1', parameters: [] });
      expect(again.rowCount).toBe(1);
    });

    it('fails with QueryFailedError naming an unknown parameter', async () => {
      await expect(engine.stage({ runId: 'r', sql: 'SELECT id FROM src WHERE id = $nope', parameters: window })).rejects.toThrow(/\$nope/);
    });

    it('fails with QueryFailedError on SQL that does not compile', async () => {
      await expect(engine.stage({ runId: 'r', sql: 'SELEC id FROM src', parameters: [] })).rejects.toMatchObject({ name: 'QueryFailedError' });
    });

    it('writes Parquet files split by rows, with exact row counts', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dropkit-parquet-'));
      try {
        const staged = await engine.stage({ runId: 'pq', sql: 'SELECT * FROM src ORDER BY id', parameters: [] });
        const files = await engine.exportParquet(staged, { compression: 'zstd', maxRowsPerFile: 2, dir });
        expect(files.map((f) => [f.path.slice(dir.length + 1), f.rows])).toEqual([['part-00000.parquet', 2], ['part-00001.parquet', 1]]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('drops the staged table, and dropping twice is fine', async () => {
      const staged = await engine.stage({ runId: 'gone', sql: 'SELECT 1 AS x', parameters: [] });
      await engine.dropStaged(staged);
      await engine.dropStaged(staged);
      await expect(engine.query(`SELECT * FROM ${staged.table}`)).rejects.toThrow();
    });
  });
}
