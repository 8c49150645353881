import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Manifest } from '../lib/core/manifest';
import { RESULT_MARK, type WorkerResult } from './bench-worker';
import { profileCost } from './bench-profile';
import { transformBench } from './bench-transform';
import { stringLiteral } from '../lib/core/sql-text';

/**
 * `npm run bench -- --rows N`: dropkit against raw DuckDB on the same extract.
 *
 * N rows of 10 mixed columns are generated deterministically into a temp Parquet source. Then, each
 * in its own process (so peak RSS is per side): `dropkit run` of a feed writing CSV (gzip off) and
 * Parquet (zstd) with a row_count and a unique check; and raw DuckDB doing `COPY (same query) TO`
 * CSV and Parquet. Everything lives under os.tmpdir() and is removed at the end (unless --keep).
 *
 * `npm run bench -- --transform --rows 1000000,5000000`: the Athena CSV transform instead (see
 * bench-transform.ts).
 */

const SLOT = '2024-01-15T06:00:00Z';

/** 10 columns: ids, text, decimal, double, boolean, timestamp (some with milliseconds), date, nullable text with quotes and commas. */
function sourceSql(rows: number): string {
  return `SELECT
    i AS id,
    'customer_' || lpad((i * 7919 % 100003)::VARCHAR, 6, '0') AS customer,
    ((i * 7919 % 1000000) / 100.0)::DECIMAL(12,2) AS amount,
    ((i % 1000) / 7.0)::DOUBLE AS score,
    i % 3 = 0 AS active,
    TIMESTAMP '2024-01-01' + to_milliseconds(i * 997) AS created_at,
    DATE '2020-01-01' + (i % 3650)::INTEGER AS ship_date,
    CASE WHEN i % 10 = 0 THEN NULL WHEN i % 13 = 0 THEN 'said "hi", then left' ELSE 'note ' || i END AS note,
    (i % 97)::INTEGER AS region_id,
    md5(i::VARCHAR) AS token
  FROM range(${rows}) r(i)`;
}

const FEED_YAML = `name: bench
description: Benchmark extract, CSV and Parquet.
owner: bench@example.com
schedule:
  cron: "0 6 * * *"
  timezone: UTC
sla:
  deliverWithin: PT2H
formats:
  csv: { gzip: false }
  parquet: { compression: zstd }
checks:
  - type: row_count
    min: 1
  - type: unique
    columns: [id]
`;

interface Side {
  readonly label: string;
  readonly wallMs: number;
  readonly result: WorkerResult;
  /** Lines the worker printed before its result line. */
  readonly output: string[];
}

function runWorker(label: string, args: string[]): Promise<Side> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [join(__dirname, 'bench-worker.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - start;
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
      const last = lines.at(-1) ?? '';
      if (code !== 0 || !last.startsWith(RESULT_MARK)) {
        reject(new Error(`${label} worker exited with ${code}:\n${lines.join('\n')}`));
        return;
      }
      resolve({ label, wallMs, result: JSON.parse(last.slice(RESULT_MARK.length)) as WorkerResult, output: lines.slice(0, -1) });
    });
  });
}

async function generateSource(path: string, rows: number): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (${sourceSql(rows)}) TO ${stringLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
  c.closeSync();
  db.closeSync();
}

const mb = (bytes: number): number => bytes / 1e6;
const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function bench(): Promise<void> {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '5000000' }, keep: { type: 'boolean', default: false }, transform: { type: 'boolean', default: false } },
  });
  if (values.transform) {
    // --rows takes a comma-separated list here: each size in fresh processes, to compare peak RSS.
    const sizes = values.rows.split(',').map(Number);
    if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--rows must be positive integers, got ${values.rows}`);
    if (!(await transformBench(sizes, values.keep))) process.exitCode = 1;
    return;
  }
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`--rows must be a positive integer, got ${values.rows}`);

  const dir = mkdtempSync(join(tmpdir(), 'dropkit-bench-'));
  try {
    const project = join(dir, 'project');
    const source = join(project, 'data', 'events.parquet');
    mkdirSync(join(project, 'data'), { recursive: true });
    mkdirSync(join(project, 'feeds'), { recursive: true });
    writeFileSync(join(project, 'dropkit.yaml'), 'name: bench\nsources:\n  events: data/events.parquet\n');
    writeFileSync(join(project, 'feeds', 'bench.yaml'), FEED_YAML);
    writeFileSync(join(project, 'feeds', 'bench.sql'), 'SELECT * FROM events\n');

    process.stderr.write(`generating ${fmt(rows, 0)} rows into ${source} …\n`);
    const t = performance.now();
    await generateSource(source, rows);
    process.stderr.write(`generated in ${fmt((performance.now() - t) / 1000, 2)} s\n`);

    const rawOut = join(dir, 'raw');
    mkdirSync(rawOut);
    process.stderr.write('raw DuckDB …\n');
    const raw = await runWorker('raw DuckDB', ['duckdb', source, rawOut]);
    rmSync(rawOut, { recursive: true, force: true }); // free the disk before dropkit writes its own copy
    process.stderr.write('dropkit run …\n');
    const dropkit = await runWorker('dropkit', ['dropkit', project, SLOT]);

    const run = JSON.parse(dropkit.output.at(-1) ?? '{}') as { status?: string; manifest?: string };
    if (run.status !== 'delivered' || !run.manifest) throw new Error(`dropkit did not deliver: ${dropkit.output.join('\n')}`);
    const manifest = JSON.parse(readFileSync(run.manifest, 'utf8')) as Manifest;
    const dropkitBytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
    if (manifest.rowCount !== rows) throw new Error(`dropkit delivered ${manifest.rowCount} rows, expected ${rows}`);

    const sides = [
      { label: 'raw DuckDB', wallMs: raw.wallMs, bytes: raw.result.outputBytes, rss: raw.result.maxRssBytes },
      { label: 'dropkit', wallMs: dropkit.wallMs, bytes: dropkitBytes, rss: dropkit.result.maxRssBytes },
    ];
    const cores = availableParallelism();
    const out: string[] = [];
    out.push(`dropkit bench: ${fmt(rows, 0)} rows x 10 columns -> CSV (gzip off) + Parquet (zstd); ${cores} cores (os.availableParallelism())`);
    out.push('');
    out.push(
      table(
        ['', 'wall s', 'rows/s', 'MB/s out', 'output MB', 'peak RSS MB'],
        [
          ...sides.map((s) => [
            s.label,
            fmt(s.wallMs / 1000, 2),
            fmt(rows / (s.wallMs / 1000), 0),
            fmt(mb(s.bytes) / (s.wallMs / 1000)),
            fmt(mb(s.bytes)),
            fmt(mb(s.rss), 0),
          ]),
          [
            'dropkit / raw',
            `${fmt(dropkit.wallMs / raw.wallMs, 2)}x`,
            '',
            '',
            `${fmt(dropkitBytes / raw.result.outputBytes, 2)}x`,
            `${fmt(dropkit.result.maxRssBytes / raw.result.maxRssBytes, 2)}x`,
          ],
        ],
      ),
    );
    const tm = manifest.timings;
    const span = (a: string, b: string) => fmt((Date.parse(b) - Date.parse(a)) / 1000, 2);
    out.push('');
    out.push(
      `raw DuckDB phases (s): COPY csv ${fmt(raw.result.phases.csv / 1000, 2)}, COPY parquet ${fmt(raw.result.phases.parquet / 1000, 2)}; process start-up ${fmt((raw.wallMs - raw.result.workMs) / 1000, 2)}`,
    );
    out.push(
      `dropkit phases (s): plan+stage ${span(tm.startedAt, tm.stagedAt)}, validate ${span(tm.stagedAt, tm.validatedAt)}, render ${span(tm.validatedAt, tm.renderedAt)}, ` +
        `publish ${span(tm.renderedAt, tm.publishedAt)}, process start-up ${fmt((dropkit.wallMs - dropkit.result.workMs) / 1000, 2)}`,
    );
    // The profile is part of the run above; timed apart here to show its share (goal: under 5%).
    const profile = await profileCost(source);
    out.push(
      `profile (s): aggregate scan ${fmt(profile.scanMs / 1000, 2)} alone, ${fmt(profile.scanWithProfileMs / 1000, 2)} with the profile; ` +
        `top values of ${profile.topColumns.length} column(s) ${fmt(profile.topValuesMs / 1000, 2)}; ` +
        `profile cost ${fmt(profile.profileMs / 1000, 2)} = ${fmt((100 * profile.profileMs) / dropkit.wallMs, 1)}% of the dropkit run`,
    );
    process.stdout.write(out.join('\n') + '\n');
    if (values.keep) process.stderr.write(`kept ${dir}\n`);
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

bench().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
