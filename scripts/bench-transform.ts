import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { readAthenaCsv, transformAthenaCsv } from '../lib/adapters/athena/athena-csv-transform';
import type { PartSink } from '../lib/core/csv/csv-writer';
import type { CsvDialect } from '../lib/core/feed/feed-schema';
import { stringLiteral } from '../lib/core/sql-text';

/**
 * `npm run bench -- --transform [--rows N[,N…]]`: the Athena result CSV transform.
 *
 * For each N, an Athena-format CSV of N rows of the bench's 10 mixed columns (header, every value
 * quoted, NULL empty and bare, LF) is written by DuckDB to a temp file. Then each mode reads it in
 * a fresh child process (so peak RSS is the mode's own): (a) parse only, (b) csv-parse →
 * csv-stringify with their defaults, (c) our transform to a dialect without gzip and (d) with
 * gzip. Output goes to a sink that counts and discards it (no disk in the timings). rows/s and
 * MB/s are of the input, by wall time; rows/CPU-s by the process's CPU time, which stays
 * meaningful on a busy machine. The JavaScript runs on one thread (gzip in libuv's pool).
 */

const RESULT_MARK = 'TRANSFORM_RESULT ';
const MODES = ['parse only', 'csv-parse → csv-stringify', 'transform', 'transform + gzip'] as const;
type Mode = (typeof MODES)[number];
/** The feed dialect the transform writes: semicolon, CRLF, `\N` for NULL (differs from the input on purpose). */
const DIALECT: CsvDialect = {
  delimiter: ';',
  quote: '"',
  quoting: 'needed',
  header: true,
  nullText: '\\N',
  lineEnding: 'crlf',
  encoding: 'utf-8',
  gzip: false,
};
/** Peak RSS may grow by at most this much from the smallest size to the largest. */
const FLAT_RSS_BYTES = 64 * 1024 * 1024;

interface ModeResult {
  readonly rows: number;
  readonly workMs: number;
  /** User + system CPU time of the whole process (gzip's pool threads and GC helpers included). */
  readonly cpuMs: number;
  readonly outputBytes: number;
  readonly maxRssBytes: number;
}

/** The same 10 columns as the main bench, as canonical text. */
function athenaCopySql(rows: number, path: string): string {
  return `COPY (SELECT
    i::VARCHAR AS id,
    'customer_' || lpad((i * 7919 % 100003)::VARCHAR, 6, '0') AS customer,
    ((i * 7919 % 1000000) / 100.0)::DECIMAL(12,2)::VARCHAR AS amount,
    ((i % 1000) / 7.0)::DOUBLE::VARCHAR AS score,
    CASE WHEN i % 3 = 0 THEN 'true' ELSE 'false' END AS active,
    strftime(TIMESTAMP '2024-01-01' + to_milliseconds(i * 997), '%Y-%m-%dT%H:%M:%S.%fZ') AS created_at,
    (DATE '2020-01-01' + (i % 3650)::INTEGER)::VARCHAR AS ship_date,
    CASE WHEN i % 10 = 0 THEN NULL WHEN i % 13 = 0 THEN 'said "hi", then left' ELSE 'note ' || i END AS note,
    (i % 97)::VARCHAR AS region_id,
    md5(i::VARCHAR) AS token
  FROM range(${rows}) r(i) ORDER BY i) TO ${stringLiteral(path)} (FORMAT csv, HEADER, FORCE_QUOTE *, NULLSTR '', NEW_LINE '\\n')`;
}

async function generate(rows: number, path: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(athenaCopySql(rows, path));
  c.closeSync();
  db.closeSync();
}

/** A sink that counts bytes and drops them. */
function countingSink(counter: { bytes: number }): PartSink {
  const stream = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      counter.bytes += chunk.length;
      cb();
    },
  });
  return { stream, finished: new Promise((resolve, reject) => stream.on('finish', resolve).on('error', reject)) };
}

async function runMode(mode: Mode, file: string): Promise<Omit<ModeResult, 'maxRssBytes' | 'workMs' | 'cpuMs'>> {
  const counter = { bytes: 0 };
  if (mode === 'parse only') {
    const csv = await readAthenaCsv(createReadStream(file));
    let rows = 0;
    for await (const batch of csv.batches) rows += batch.length;
    return { rows, outputBytes: 0 };
  }
  if (mode === 'csv-parse → csv-stringify') {
    const parser = parse();
    await pipeline(createReadStream(file), parser, stringify(), countingSink(counter).stream);
    return { rows: parser.info.records - 1, outputBytes: counter.bytes }; // the header is a record to csv-parse
  }
  const dialect = { ...DIALECT, gzip: mode === 'transform + gzip' };
  const { parts } = await transformAthenaCsv({ input: createReadStream(file), dialect, openPart: () => countingSink(counter) });
  return { rows: parts.reduce((n, p) => n + p.rows, 0), outputBytes: counter.bytes };
}

async function workerMain(mode: Mode, file: string): Promise<void> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const result = await runMode(mode, file);
  const used = process.cpuUsage(cpu);
  const full: ModeResult = {
    ...result,
    workMs: performance.now() - start,
    cpuMs: (used.user + used.system) / 1000,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(full)}\n`);
}

function runChild(mode: Mode, file: string): Promise<ModeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--worker', mode, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = Buffer.concat(chunks).toString('utf8').trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith(RESULT_MARK)) reject(new Error(`${mode} exited with ${code}: ${last}`));
      else resolve(JSON.parse(last.slice(RESULT_MARK.length)) as ModeResult);
    });
  });
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Runs the transform bench for each size; prints one table and the checks; returns false when a goal is missed. */
export async function transformBench(sizes: readonly number[], keep: boolean): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'dropkit-bench-transform-'));
  const results: { size: number; inputBytes: number; mode: Mode; result: ModeResult }[] = [];
  try {
    for (const size of sizes) {
      const file = join(dir, `athena-${size}.csv`);
      process.stderr.write(`generating an Athena result CSV of ${fmt(size, 0)} rows …\n`);
      await generate(size, file);
      const inputBytes = statSync(file).size;
      for (const mode of MODES) {
        process.stderr.write(`  ${mode} …\n`);
        const result = await runChild(mode, file);
        if (result.rows !== size) throw new Error(`${mode} read ${result.rows} rows, expected ${size}`);
        results.push({ size, inputBytes, mode, result });
      }
      if (!keep) rmSync(file, { force: true });
    }
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }

  const out: string[] = [`dropkit bench --transform: Athena result CSV → ${JSON.stringify({ ...DIALECT, gzip: undefined })}; output discarded`, ''];
  out.push(
    table(
      ['rows', 'mode', 'wall s', 'rows/s', 'rows/CPU-s', 'MB/s in', 'input MB', 'output MB', 'peak RSS MB'],
      results.map(({ size, inputBytes, mode, result }) => [
        fmt(size, 0),
        mode,
        fmt(result.workMs / 1000, 2),
        fmt(size / (result.workMs / 1000), 0),
        fmt(size / (result.cpuMs / 1000), 0),
        fmt(inputBytes / 1e6 / (result.workMs / 1000)),
        fmt(inputBytes / 1e6),
        fmt(result.outputBytes / 1e6),
        fmt(result.maxRssBytes / 1e6, 0),
      ]),
    ),
  );
  out.push('');
  let ok = true;
  for (const size of sizes) {
    const of = (mode: Mode) => results.find((r) => r.size === size && r.mode === mode)!.result;
    // Both sides by CPU time: one core's worth of work, whatever else the machine is doing.
    const ratio = of('csv-parse → csv-stringify').cpuMs / of('transform').cpuMs;
    const perCpu = size / (of('transform').cpuMs / 1000);
    const wall = size / (of('transform').workMs / 1000);
    const pass = ratio >= 2 && perCpu >= 700_000;
    ok &&= pass;
    out.push(
      `${fmt(size, 0)} rows: transform ${fmt(perCpu, 0)} rows/CPU-s (${fmt(wall, 0)} rows/s wall; goal 700,000), ` +
        `${fmt(ratio, 2)}x csv-parse → csv-stringify by CPU time (goal 2x): ${pass ? 'ok' : 'MISSED'}`,
    );
  }
  if (sizes.length > 1) {
    for (const mode of MODES) {
      const rss = results.filter((r) => r.mode === mode).map((r) => r.result.maxRssBytes);
      const spread = Math.max(...rss) - Math.min(...rss);
      const flat = spread <= FLAT_RSS_BYTES;
      if (mode.startsWith('transform') || mode === 'parse only') ok &&= flat;
      out.push(
        `peak RSS of ${mode} across sizes: ${fmt(Math.min(...rss) / 1e6, 0)}–${fmt(Math.max(...rss) / 1e6, 0)} MB, spread ${fmt(spread / 1e6, 0)} MB (flat: ≤ 64 MiB): ${flat ? 'ok' : 'NOT FLAT'}`,
      );
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  return ok;
}

if (require.main === module && process.argv[2] === '--worker') {
  workerMain(process.argv[3] as Mode, process.argv[4]).catch((error: unknown) => {
    process.stderr.write(`bench-transform worker: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
