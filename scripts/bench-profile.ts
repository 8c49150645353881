import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbDialect } from '../lib/adapters/duckdb/duckdb-dialect';
import { profileExpressions, readProfile, topValueColumns, topValuesSql } from '../lib/core/profile/profile';
import type { ColumnSchema } from '../lib/core/ports/query-engine';
import { stringLiteral } from '../lib/core/sql-text';

/**
 * What the profile adds to a run, measured on its own: DuckDB over a staged-like Parquet file
 * (the bench source is the feed's `SELECT *`, zstd Parquet, as DuckDB staging writes it). The
 * aggregate scan is timed with the bench feed's aggregate check alone and with the profile's
 * aggregates added (the profile shares that scan in validate.ts); the top-values query is timed
 * alone. Best of `repeat`, so a busy shared machine skews it less.
 */
export interface ProfileCost {
  readonly scanMs: number;
  readonly scanWithProfileMs: number;
  readonly topValuesMs: number;
  /** Extra time the profile costs a run. */
  readonly profileMs: number;
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
    const profiling = profileExpressions(columns, duckdbDialect);
    // The bench feed's aggregate check (row_count) as validate.ts names it.
    const checksOnly = `SELECT count(*) AS "c0_rows" FROM stg`;
    const withProfile = `SELECT count(*) AS "c0_rows", ${Object.entries(profiling)
      .map(([alias, expr]) => `${expr} AS "${alias}"`)
      .join(', ')} FROM stg`;
    const best = async (sql: string) => {
      let ms = Infinity;
      let rows: Record<string, unknown>[] = [];
      for (let i = 0; i < repeat; i++) {
        const t = performance.now();
        rows = (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
        ms = Math.min(ms, performance.now() - t);
      }
      return { ms, rows };
    };
    const scan = await best(checksOnly);
    const scanWithProfile = await best(withProfile);
    const topColumns = topValueColumns(readProfile(scanWithProfile.rows[0], columns));
    const top = topColumns.length ? await best(topValuesSql('stg', topColumns, duckdbDialect)) : { ms: 0 };
    return {
      scanMs: scan.ms,
      scanWithProfileMs: scanWithProfile.ms,
      topValuesMs: top.ms,
      profileMs: Math.max(0, scanWithProfile.ms - scan.ms) + top.ms,
      topColumns,
    };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
