import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbDialect } from '../lib/adapters/duckdb/duckdb-dialect';
import { parquetProfile } from '../lib/adapters/duckdb/duckdb-profile';
import { profileExpressions, readProfile, topValueColumns, topValuesSql } from '../lib/core/profile/profile';
import type { ColumnSchema } from '../lib/core/ports/query-engine';
import { stringLiteral } from '../lib/core/sql-text';

/**
 * What the profile adds to a run, measured on its own: DuckDB over a staged-like Parquet file
 * (the bench source is the feed's `SELECT *`, zstd Parquet, as DuckDB staging writes it). The
 * checks' aggregate scan is timed alone; the profile as DuckDB runs it (the engine's `profile`:
 * the file's metadata and a sample of rows) and the top-values query are timed apart, and so,
 * for comparison, is the profile's aggregates added to the checks' scan (what an engine without
 * its own profile, such as Athena, does). Best of `repeat` for wall time, CPU seconds (user +
 * system of every DuckDB thread) of that same round, so a busy shared machine skews it less.
 */
export interface Timed {
  readonly ms: number;
  readonly cpuSeconds: number;
}

export interface ProfileCost {
  readonly scan: Timed;
  /** The profile's aggregates in the checks' scan (the path of engines without their own profile). */
  readonly scanWithProfile: Timed;
  /** The engine's own profile (metadata and sample). */
  readonly sampled: Timed;
  readonly topValues: Timed;
  /** Extra wall time the profile costs a run, and its CPU seconds. */
  readonly profileMs: number;
  readonly profileCpuSeconds: number;
  readonly topColumns: readonly string[];
}

export async function profileCost(parquetPath: string, repeat = 3): Promise<ProfileCost> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`SET TimeZone = 'UTC'`);
    await c.run(`CREATE VIEW stg AS SELECT * FROM read_parquet(${stringLiteral(parquetPath)})`);
    const described = (await c.runAndReadAll(`DESCRIBE stg`)).getRowObjectsJson() as { column_name: string; column_type: string }[];
    const columns: ColumnSchema[] = described.map((d) => ({ name: d.column_name, type: d.column_type, nullable: true }));
    const run = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    const profiling = profileExpressions(columns, duckdbDialect);
    // The bench feed's aggregate check (row_count) as validate.ts names it.
    const checksOnly = `SELECT count(*) AS "c0_rows" FROM stg`;
    const withProfile = `SELECT count(*) AS "c0_rows", ${Object.entries(profiling)
      .map(([alias, expr]) => `${expr} AS "${alias}"`)
      .join(', ')} FROM stg`;
    const best = async <T>(work: () => Promise<T>): Promise<Timed & { value: T }> => {
      let out: Timed & { value: T } = { ms: Infinity, cpuSeconds: Infinity, value: undefined as T };
      for (let i = 0; i < repeat; i++) {
        const cpu = process.cpuUsage();
        const t = performance.now();
        const value = await work();
        const ms = performance.now() - t;
        const used = process.cpuUsage(cpu);
        if (ms < out.ms) out = { ms, cpuSeconds: (used.user + used.system) / 1e6, value };
      }
      return out;
    };
    const scan = await best(() => run(checksOnly));
    const scanWithProfile = await best(() => run(withProfile));
    const sampled = await best(() => parquetProfile(run, parquetPath, columns));
    const topColumns = topValueColumns(readProfile(sampled.value, columns));
    const top = topColumns.length ? await best(() => run(topValuesSql('stg', topColumns, duckdbDialect))) : { ms: 0, cpuSeconds: 0 };
    const timed = (t: Timed): Timed => ({ ms: t.ms, cpuSeconds: t.cpuSeconds });
    return {
      scan: timed(scan),
      scanWithProfile: timed(scanWithProfile),
      sampled: timed(sampled),
      topValues: timed(top),
      profileMs: sampled.ms + top.ms,
      profileCpuSeconds: sampled.cpuSeconds + top.cpuSeconds,
      topColumns,
    };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
