import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * `node dist/scripts/bench-run-all.js [--feeds 100] [--concurrency 1,2]`: `dropkit run --all` of
 * many small feeds (7 rows each, CSV + Parquet, two checks), once per concurrency, each into a
 * fresh output folder, in its own process; prints the wall time of each and the ratio to the first.
 */
const SLOT_NOW = '2024-01-15T07:00:00Z';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** A project of `feeds` small feeds (7 rows each, CSV + Parquet, two checks) in `dir`; also bench.ts's 200-feed `check`. */
export async function writeManyFeeds(dir: string, feeds: number): Promise<void> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'feeds'), { recursive: true });
  writeFileSync(join(dir, 'dropkit.yaml'), 'name: many\nsources:\n  events: data/events.parquet\n');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(
    `COPY (SELECT i AS id, 'label ' || i AS label, i * 1.5 AS amount, TIMESTAMP '2024-01-14 00:00:00' + INTERVAL (i * 3) HOUR AS happened_at FROM range(1, 15) t(i)) TO '${join(dir, 'data', 'events.parquet')}' (FORMAT parquet)`,
  );
  c.closeSync();
  for (let i = 0; i < feeds; i++) {
    const name = `feed_${String(i).padStart(3, '0')}`;
    writeFileSync(
      join(dir, 'feeds', `${name}.yaml`),
      `name: ${name}\ndescription: bench feed\nowner: bench@example.com\nschedule:\n  cron: "0 6 * * *"\n  timezone: UTC\nsla:\n  deliverWithin: PT2H\nformats:\n  csv:\n    gzip: false\n  parquet: {}\nchecks:\n  - type: row_count\n    min: 1\n  - type: unique\n    columns: [id]\n`,
    );
    writeFileSync(
      join(dir, 'feeds', `${name}.sql`),
      'SELECT id, label, amount, happened_at FROM events\nWHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id\n',
    );
  }
}

async function main(): Promise<void> {
  const feeds = Number(arg('feeds', '100'));
  const levels = arg('concurrency', '1,2').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'dropkit-run-all-'));
  try {
    await writeManyFeeds(dir, feeds);
    const bin = join(__dirname, '..', 'bin', 'dropkit.js');
    const rows: string[] = [];
    let first = 0;
    for (const n of levels) {
      const out = join(dir, `out-${n}`);
      const t = performance.now();
      const r = spawnSync(process.execPath, [bin, 'run', '--all', '--concurrency', String(n), '--project', dir, '--now', SLOT_NOW, '--out', out, '--json'], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      const ms = performance.now() - t;
      const status = (JSON.parse(r.stdout || '{}') as { status?: string }).status;
      if (r.status !== 0 || status !== 'delivered') throw new Error(`--concurrency ${n} exited ${r.status} (${status}): ${r.stderr.slice(0, 2000)}`);
      first ||= ms;
      rows.push(`--concurrency ${String(n).padEnd(3)} ${(ms / 1000).toFixed(2).padStart(7)} s ${(ms / first).toFixed(2).padStart(6)}x`);
    }
    process.stdout.write(`run --all of ${feeds} small feeds; ${availableParallelism()} cores\n${rows.join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench-run-all: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
