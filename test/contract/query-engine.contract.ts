import type { ObjectStore } from '../../lib/core/ports/object-store';
import type { QueryEngine, QueryParameter, StagedTable } from '../../lib/core/ports/query-engine';
import type { CsvDialect } from '../../lib/core/feed/feed-schema';
import { hashObject } from '../../lib/core/hash';
import { collectText, stage } from '../helpers/engine';
import { engineDialect } from '../../lib/engines';

/** Source rows every engine under contract must expose as table `src` (id, label, amount, happened_at). */
export const CONTRACT_SOURCE_SQL = `SELECT * FROM (VALUES
  (1, 'plain', 10.50, TIMESTAMP '2024-01-15 06:00:00'),
  (2, 'x''; DROP TABLE src; --', 0.05, TIMESTAMP '2024-01-15 07:30:00'),
  (3, NULL, NULL, TIMESTAMP '2024-01-16 00:00:00')
) t(id, label, amount, happened_at)`;

const PLAIN_CSV: CsvDialect = { delimiter: ',', quote: '"', quoting: 'needed', header: true, nullText: '', lineEnding: 'lf', encoding: 'utf-8', gzip: false };

export interface EngineUnderContract {
  readonly engine: QueryEngine;
  readonly store: ObjectStore;
  cleanup(): Promise<void>;
  /**
   * Whether the engine still holds a table, view or attached database for `staged`, asked through
   * `other` (rows staged apart). By default: whether a fresh query can still read the rows once the
   * staging prefix is deleted (an engine reading the store afresh each time needs its own probe).
   */
  holds?(staged: StagedTable, other: StagedTable): Promise<boolean>;
}

/**
 * The QueryEngine contract: what the pipeline relies on, whatever the engine. Run over every
 * adapter: DuckDB for real; Athena on a mocked client. `open` makes an engine over a store; the
 * second engine it makes for the same store must be able to use what the first staged.
 */
export function queryEngineContract(name: string, open: (store?: ObjectStore) => Promise<EngineUnderContract>) {
  describe(`${name} (QueryEngine contract)`, () => {
    let under: EngineUnderContract;
    let engine: QueryEngine;
    beforeEach(async () => {
      under = await open();
      engine = under.engine;
    });
    afterEach(async () => {
      await under.cleanup();
    });

    const window: QueryParameter[] = [
      { name: 'window_start', type: 'TIMESTAMP', value: '2024-01-15T00:00:00.000Z' },
      { name: 'window_end', type: 'TIMESTAMP', value: '2024-01-16T00:00:00.000Z' },
    ];

    it('brings the dialect the engine registry lists under its name, and stages under that name', async () => {
      expect(engineDialect(engine.dialect.name)).toBe(engine.dialect);
      const staged = await stage(engine, { runId: 'run-d', sql: 'SELECT id FROM src' });
      expect(staged.engine).toBe(engine.dialect.name);
    });

    it('stages the query once with its parameters bound, reporting rows and columns', async () => {
      const staged = await stage(engine, {
        runId: 'run-1',
        sql: 'SELECT id, label FROM src WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id',
        parameters: window,
      });
      expect(staged.rowCount).toBe(2);
      expect(staged.columns.map((c) => c.name)).toEqual(['id', 'label']);
      expect(staged.location.startsWith('_staging/run-1/a1/')).toBe(true);
      expect(await collectText(engine, staged)).toEqual([
        ['1', 'plain'],
        ['2', "x'; DROP TABLE src; --"],
      ]);
    });

    it('compiles the stage step to one statement with positional parameters in order, without running it', async () => {
      const request = {
        runId: 'compiled',
        attemptId: 'a1',
        stagingPrefix: '_staging/compiled/a1/',
        sql: 'SELECT id FROM src WHERE happened_at >= $window_start AND id <> $n AND happened_at < $window_start + INTERVAL 1 DAY',
        parameters: [...window, { name: 'n', type: 'BIGINT' as const, value: 3 }],
      };
      const statement = await engine.compileStage(request);
      expect(statement.sql).not.toMatch(/\$window_start|\$n\b/);
      expect(statement.parameters.map((p) => p.name)).toEqual(['window_start', 'n', 'window_start']);
      expect(statement.token).toContain('compiled');
      expect(await under.store.exists('_staging/compiled/a1/staged.parquet')).toBe(false);
    });

    it('keeps a parameter value that looks like SQL a value', async () => {
      const evil = "x'; DROP TABLE src; --";
      const staged = await stage(engine, {
        runId: 'run-2',
        sql: 'SELECT id FROM src WHERE label = $who',
        parameters: [{ name: 'who', type: 'VARCHAR', value: evil }],
      });
      expect(await collectText(engine, staged)).toEqual([['2']]);
      const again = await stage(engine, { runId: 'run-3', sql: 'SELECT count(*) AS n FROM src', parameters: [] });
      expect(await collectText(engine, again)).toEqual([['3']]);
    });

    it('renders every value in its canonical text: exact decimals, ISO-8601 UTC, true/false, NULL apart from the empty string', async () => {
      const staged = await stage(engine, {
        runId: 'canon',
        sql: `SELECT CAST(0.10 AS DECIMAL(12,2)) AS d, TIMESTAMP '2024-01-15 06:00:00' AS t, TIMESTAMP '2024-01-15 06:00:00.250' AS f, true AS b, false AS nb, '' AS e, CAST(NULL AS VARCHAR) AS n`,
      });
      expect(await collectText(engine, staged)).toEqual([['0.10', '2024-01-15T06:00:00Z', '2024-01-15T06:00:00.250000Z', 'true', 'false', '', null]]);
    });

    it('answers a check query over the staged rows with JSON-safe values', async () => {
      const staged = await stage(engine, { runId: 'q', sql: 'SELECT * FROM src', parameters: [] });
      const [row] = await engine.query(`SELECT count(*) AS n, count(label) AS labelled FROM ${staged.table}`, staged);
      expect([Number(row.n), Number(row.labelled)]).toEqual([3, 2]);
    });

    it('refuses a check query that is not one read-only SELECT', async () => {
      const staged = await stage(engine, { runId: 'ro', sql: 'SELECT * FROM src', parameters: [] });
      await expect(engine.query(`SELECT 1; SELECT 2`, staged)).rejects.toMatchObject({ name: 'QueryFailedError' });
      await expect(engine.query(`CREATE TABLE evil AS SELECT 1`, staged)).rejects.toMatchObject({ name: 'QueryFailedError' });
    });

    it('re-staging the same attempt replaces what it staged', async () => {
      await stage(engine, { runId: 'same', sql: 'SELECT id FROM src', parameters: [] });
      const again = await stage(engine, { runId: 'same', sql: 'SELECT id FROM src WHERE id = 1', parameters: [] });
      expect(again.rowCount).toBe(1);
    });

    it('fails with QueryFailedError naming an unknown parameter', async () => {
      await expect(stage(engine, { runId: 'r', sql: 'SELECT id FROM src WHERE id = $nope', parameters: window })).rejects.toThrow(/\$nope/);
    });

    it('fails with QueryFailedError on SQL that does not compile', async () => {
      await expect(stage(engine, { runId: 'r', sql: 'SELEC id FROM src', parameters: [] })).rejects.toMatchObject({ name: 'QueryFailedError' });
    });

    it('writes Parquet files into the store split by rows, with exact row counts, sizes and hashes', async () => {
      const staged = await stage(engine, { runId: 'pq', sql: 'SELECT * FROM src ORDER BY id', parameters: [] });
      const files = await engine.exportParquet(staged, { compression: 'zstd', maxRowsPerFile: 2, prefix: '_staging/pq/a1/out/' });
      expect(files.map((f) => [f.key, f.rows])).toEqual([
        ['_staging/pq/a1/out/part-00000.parquet', 2],
        ['_staging/pq/a1/out/part-00001.parquet', 1],
      ]);
      for (const f of files) {
        const real = await hashObject(under.store, f.key);
        if (f.sha256 !== undefined) expect({ bytes: f.bytes, sha256: f.sha256 }).toEqual(real);
      }
    });

    it('writes CSV into the store in the default dialect, or declines', async () => {
      const staged = await stage(engine, { runId: 'csv', sql: `SELECT id, label FROM src ORDER BY id`, parameters: [] });
      const files = await engine.exportCsv?.(staged, { dialect: PLAIN_CSV, prefix: '_staging/csv/a1/out/' });
      if (!files) return; // declining is allowed: the Node writer then renders from streamText
      expect(files.map((f) => f.key)).toEqual(['_staging/csv/a1/out/part-00000.csv']);
      const got = await under.store.get(files[0].key);
      expect(got!.body.toString('utf8')).toBe(`id,label\n1,plain\n2,x'; DROP TABLE src; --\n3,\n`);
    });

    it('lets another engine instance use what this one staged', async () => {
      const staged = await stage(engine, { runId: 'shared', sql: 'SELECT id, label FROM src ORDER BY id', parameters: [] });
      const json = JSON.parse(JSON.stringify(staged)) as StagedTable;
      const other = await open(under.store);
      try {
        expect(await collectText(other.engine, json)).toEqual([
          ['1', 'plain'],
          ['2', "x'; DROP TABLE src; --"],
          ['3', null],
        ]);
        const files = await other.engine.exportParquet(json, { compression: 'zstd', prefix: '_staging/shared/a1/out/' });
        expect(files[0].rows).toBe(3);
      } finally {
        await other.engine.close();
      }
    });

    it('drops the staged rows, and dropping twice is fine', async () => {
      const staged = await stage(engine, { runId: 'gone', sql: 'SELECT 1 AS x', parameters: [] });
      const other = await stage(engine, { runId: 'kept', sql: 'SELECT 2 AS y', parameters: [] });
      let probes = 0;
      const holds =
        under.holds?.bind(under) ??
        (async (s: StagedTable) => {
          await under.store.deletePrefix(s.location.slice(0, s.location.lastIndexOf('/') + 1));
          // A new text each time: Athena answers a repeated query (same request token) from its first run.
          return engine.query(`SELECT count(*) AS probe${probes++} FROM ${s.table}`, s).then(
            () => true,
            () => false,
          );
        });
      await engine.dropStaged(staged);
      await engine.dropStaged(staged);
      expect(await holds(staged, other)).toBe(false);
      expect(await holds(other, staged)).toBe(true);
    });
  });
}
