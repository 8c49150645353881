import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { stringLiteral } from '../lib/core/sql-text';
import type { main } from '../lib/cli/main';

/**
 * One side of the benchmark, alone in its process so its peak RSS is its own:
 *   bench-worker dropkit <project dir> <slot> [main.js]   `dropkit run` of the bench feed, in process (another build's lib/cli/main.js if given)
 *   bench-worker duckdb <source.parquet> <out dir> [gzip]   the same work with raw DuckDB COPY (CSV gzipped by DuckDB with `gzip`)
 * The last stdout line is `BENCH_RESULT {json}`: timings in ms and peak RSS in bytes.
 */
export const RESULT_MARK = 'BENCH_RESULT ';

export interface WorkerResult {
  readonly exitCode: number;
  /** Work only, from the worker's start of work to its end (module loading excluded). */
  readonly workMs: number;
  readonly maxRssBytes: number;
  /** CPU time of the whole process (every thread, DuckDB's included), user + system: what a busy shared machine does not inflate. */
  readonly cpuMs: number;
  /** Named phases, in ms. */
  readonly phases: Record<string, number>;
  readonly outputBytes: number;
}

async function runDropkit(project: string, slot: string, mainModule?: string): Promise<Omit<WorkerResult, 'maxRssBytes' | 'workMs' | 'cpuMs'>> {
  // Another build's CLI (bench.ts --baseline) when given, run by this very worker.
  // Loaded here, not at the top: the baseline's process loads only its own build.
  const { main: run } = (await import(mainModule ?? '../lib/cli/main')) as { main: typeof main };
  // `run --json` prints its own one-line JSON on stdout, before our result line.
  const exitCode = await run(['run', 'bench', '--project', project, '--slot', slot, '--json']);
  return { exitCode, phases: {}, outputBytes: 0 };
}

async function runDuckdb(source: string, out: string, gzip: boolean): Promise<Omit<WorkerResult, 'maxRssBytes' | 'workMs' | 'cpuMs'>> {
  const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', temp_directory: join(out, 'spill') });
  const c = await db.connect();
  await c.run(`SET TimeZone = 'UTC'`);
  const query = `SELECT * FROM read_parquet(${stringLiteral(source)})`;
  const phases: Record<string, number> = {};
  const targets = { csv: join(out, gzip ? 'raw.csv.gz' : 'raw.csv'), parquet: join(out, 'raw.parquet') };
  let t = performance.now();
  await c.run(`COPY (${query}) TO '${targets.csv}' (FORMAT csv${gzip ? ', COMPRESSION gzip' : ''})`);
  phases.csv = performance.now() - t;
  t = performance.now();
  await c.run(`COPY (${query}) TO '${targets.parquet}' (FORMAT parquet, COMPRESSION zstd)`);
  phases.parquet = performance.now() - t;
  c.closeSync();
  db.closeSync();
  return { exitCode: 0, phases, outputBytes: statSync(targets.csv).size + statSync(targets.parquet).size };
}

async function workerMain(): Promise<void> {
  const [mode, a, b, c] = process.argv.slice(2);
  const start = performance.now();
  const result = mode === 'dropkit' ? await runDropkit(a, b, c) : mode === 'duckdb' ? await runDuckdb(a, b, c === 'gzip') : undefined;
  if (!result) throw new Error(`bench-worker: unknown mode ${mode}`);
  const workMs = performance.now() - start;
  // maxRSS is in kilobytes: the process's peak, native DuckDB memory included.
  const usage = process.resourceUsage();
  const full: WorkerResult = { ...result, workMs, maxRssBytes: usage.maxRSS * 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 };
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(full)}\n`);
  process.exitCode = result.exitCode;
}

if (require.main === module) {
  workerMain().catch((error: unknown) => {
    process.stderr.write(`bench-worker: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
