import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbDestinationEngine } from '../lib/adapters/duckdb/duckdb-destination';
import { LocalStore } from '../lib/adapters/local/local-store';

/**
 * Diff-sync benchmark: two drops of N rows (default 1,000,000) as Parquet, the second with 1% of
 * rows changed, 0.5% gone and 0.5% new; the change set (inserts, updates, deletes) computed by
 * DuckDB in a child process whose time and peak memory (RSS, and the JS heap, to show the rows
 * never pass through Node) are reported.
 *
 *   node dist/scripts/bench-diff.js [rows] [--memory-limit 1GB] [--threads 2]
 */
const WORKER = '--worker';
const MARK = 'RESULT ';

function dropSql(rows: number, second: boolean): string {
  // Second drop: ids shifted by 0.5% (the first 0.5% gone, 0.5% new at the end), every 100th row changed.
  const shift = second ? Math.floor(rows / 200) : 0;
  const amount = second ? `CASE WHEN i % 100 = 7 THEN i * 3 ELSE i * 2 END` : `i * 2`;
  return `SELECT i AS id, 'customer-' || i AS name, ${amount}::DECIMAL(18,2) AS amount, TIMESTAMP '2024-01-01' + INTERVAL (i % 86400) SECOND AS updated_at, i % 5 = 0 AS vip
          FROM range(${1 + shift}, ${rows + 1 + shift}) t(i)`;
}

async function worker(storeDir: string, memoryLimit: string, threads: number): Promise<void> {
  const store = new LocalStore(storeDir);
  let heapPeak = 0;
  const sample = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
  const engine = await DuckDbDestinationEngine.open({ store, workDir: storeDir, memoryLimit, threads });
  const start = performance.now();
  const set = await engine.diff({
    base: ['a/part-00000.parquet'],
    current: ['b/part-00000.parquet'],
    primaryKey: ['id'],
    columns: ['id', 'name', 'amount', 'updated_at', 'vip'],
    outPrefix: 'changes/',
  });
  const ms = performance.now() - start;
  clearInterval(sample);
  await engine.close();
  const result = {
    ms,
    inserts: set.inserts.rows,
    updates: set.updates.rows,
    deletes: set.deletes.rows,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapPeakBytes: Math.max(heapPeak, process.memoryUsage().heapUsed),
  };
  process.stdout.write(MARK + JSON.stringify(result) + '\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
  if (args[0] === WORKER) return worker(args[1], args[2], Number(args[3]));
  const rows = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
  const memoryLimit = flag('--memory-limit', '1GB');
  const threads = Number(flag('--threads', '2'));
  const dir = await mkdtemp(join(tmpdir(), 'dropkit-bench-diff-'));
  try {
    const store = new LocalStore(join(dir, 'store'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const t = performance.now();
    for (const [name, second] of [
      ['a', false],
      ['b', true],
    ] as const) {
      await store.put(`${name}/.keep`, '');
      await c.run(`COPY (${dropSql(rows, second)}) TO '${store.localPath(`${name}/part-00000.parquet`)}' (FORMAT parquet, COMPRESSION zstd)`);
    }
    c.closeSync();
    db.closeSync();
    process.stderr.write(`two drops of ${rows.toLocaleString('en')} rows generated in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [__filename, WORKER, join(dir, 'store'), memoryLimit, String(threads)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`worker exited with ${code}: ${text}`))));
    });
    const r = JSON.parse(
      out
        .split('\n')
        .find((l) => l.startsWith(MARK))!
        .slice(MARK.length),
    );
    const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
    const expected = { inserts: Math.floor(rows / 200), deletes: Math.floor(rows / 200) };
    if (r.inserts !== expected.inserts || r.deletes !== expected.deletes)
      throw new Error(`wrong change set: ${JSON.stringify(r)} (expected ${JSON.stringify(expected)})`);
    process.stdout.write(
      `diff of ${rows.toLocaleString('en')} rows (DuckDB, memory_limit ${memoryLimit}, ${threads} threads): ${(r.ms / 1000).toFixed(2)} s, ` +
        `inserts ${r.inserts}, updates ${r.updates}, deletes ${r.deletes}; peak RSS ${mb(r.maxRssBytes)} MB, peak JS heap ${mb(r.heapPeakBytes)} MB\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
