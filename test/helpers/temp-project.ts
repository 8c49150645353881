import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** A project folder in a temp dir, written from a map of relative path → file text. */
export interface TempProject {
  readonly dir: string;
  write(path: string, text: string): void;
  cleanup(): void;
}

export function tempProject(files: Record<string, string>): TempProject {
  const dir = mkdtempSync(join(tmpdir(), 'dropkit-project-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  for (const [path, text] of Object.entries(files)) write(path, text);
  return { dir, write, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a Parquet file from a DuckDB SELECT: test sources with exact types. */
export async function writeParquet(path: string, select: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`SET TimeZone = 'UTC'`);
  await c.run(`COPY (${select}) TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
}

export const PROJECT_YAML = `name: test
sources:
  events: data/events.parquet
`;

/** A daily feed at 06:00 UTC over `events`, CSV + Parquet, with the checks given. */
export function dailyFeed(name = 'daily', extra = ''): string {
  return `name: ${name}
description: test feed
owner: tests@example.com
schedule:
  cron: "0 6 * * *"
  timezone: UTC
sla:
  deliverWithin: PT2H
formats:
  csv:
    gzip: false
  parquet: {}
checks:
  - type: row_count
    min: 1
  - type: unique
    columns: [id]
${extra}`;
}

export const DAILY_SQL = `SELECT id, label, amount, happened_at FROM events
WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id
`;

/** Events on 2024-01-14 and 2024-01-15 (ids 1-4 and 5-7); id 6 is duplicated on the 15th when `dupes`. */
export function eventsSelect(dupes = false): string {
  return `SELECT * FROM (VALUES
    (1, 'a', 1.10::DECIMAL(10,2), TIMESTAMP '2024-01-14 00:10:00'),
    (2, 'b', 2.20, TIMESTAMP '2024-01-14 08:00:00'),
    (3, 'c', 3.30, TIMESTAMP '2024-01-14 12:00:00'),
    (4, 'd', 4.40, TIMESTAMP '2024-01-14 23:59:59'),
    (5, 'e', 5.50, TIMESTAMP '2024-01-15 06:00:00'),
    (6, 'f', 6.60, TIMESTAMP '2024-01-15 07:00:00'),
    (${dupes ? 6 : 7}, 'g', 7.70, TIMESTAMP '2024-01-15 09:00:00')
  ) t(id, label, amount, happened_at)`;
}
