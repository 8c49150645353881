import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateShopData } from '../examples/generate-data';
import type { Manifest } from '../lib/core/manifest';
import { RESULT_MARK, type WorkerResult } from './bench-worker';
import { profileCost } from './bench-profile';
import { writeManyFeeds } from './bench-run-all';
import { transformBench } from './bench-transform';
import { stringLiteral } from '../lib/core/sql-text';

/**
 * `npm run bench`: every speed goal of issue 19, each printed as a number or a ratio measured side
 * by side in this one run. Flags:
 *   --only run,gzip,rss,profile,check,run-all,lambdas,diff   a subset of the goals (default: all)
 *   --rows 5000000,20000000   sizes of the run goal (the first also for gzip and profile)
 *   --rss-rows 1000000,20000000   sizes compared by the rss goal
 *   --pairs N   rounds per comparison, the order of the sides rotated each round (a busy shared
 *               machine then spreads over every side); ranges and medians are printed
 *   --baseline DIR   a checkout with its own `dist/` (e.g. the main branch, built): its dropkit runs
 *               in every round too, for before/after tables
 *   --keep      keep the temp folder
 * The run goal: N rows of 10 mixed columns generated deterministically into a zstd Parquet source;
 * then, each in its own process (so peak RSS is per side), `dropkit run` of a feed writing CSV and
 * Parquet (zstd) with a row_count and a unique check, and raw DuckDB doing `COPY (same query) TO`
 * CSV and Parquet.
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

/** Every goal `npm run bench` measures (issue 19), in the order printed. */
const GOALS = ['run', 'gzip', 'rss', 'profile', 'check', 'run-all', 'lambdas', 'diff'] as const;
type Goal = (typeof GOALS)[number];

interface Side {
  readonly label: string;
  readonly wallMs: number;
  readonly result: WorkerResult;
  /** Lines the worker printed before its result line. */
  readonly output: string[];
}

function runWorker(label: string, args: string[], worker = join(__dirname, 'bench-worker.js')): Promise<Side> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
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
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** `min–max (median m)` of a series, or the one value. */
const spread = (xs: readonly number[], show: (n: number) => string): string =>
  xs.length === 1 ? show(xs[0]) : `${show(Math.min(...xs))}–${show(Math.max(...xs))} (median ${show(median(xs))})`;
const times = (n: number) => `${fmt(n, 2)}x`;
const seconds = (ms: number) => `${fmt(ms / 1000, 2)} s`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function parseRows(text: string): number[] {
  const sizes = text.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--rows must be positive integers separated by commas, got ${text}`);
  return sizes;
}

/** One bench project (feed `bench` over `events`) reading `source`. */
function writeProject(dir: string, source: string, gzip: boolean): string {
  mkdirSync(join(dir, 'feeds'), { recursive: true });
  writeFileSync(join(dir, 'dropkit.yaml'), `name: bench\nsources:\n  events: ${JSON.stringify(source)}\n`);
  writeFileSync(join(dir, 'feeds', 'bench.yaml'), FEED_YAML.replace('gzip: false', `gzip: ${gzip}`));
  writeFileSync(join(dir, 'feeds', 'bench.sql'), 'SELECT * FROM events\n');
  return dir;
}

interface Measured {
  readonly rows: number;
  readonly raw: Side[];
  readonly dropkit: Side[];
  readonly baseline: Side[];
}

/**
 * `pairs` rounds of raw DuckDB, dropkit (and the baseline build's dropkit), the order rotated each
 * round so that a busy spell of the shared machine does not always land on the same side.
 */
async function measure(dir: string, source: string, rows: number, gzip: boolean, pairs: number, baseline?: string): Promise<Measured> {
  const project = writeProject(join(dir, `project-${rows}-${gzip ? 'gzip' : 'plain'}`), source, gzip);
  const out: Measured = { rows, raw: [], dropkit: [], baseline: [] };
  type Runner = () => Promise<void>;
  const deliver = async (label: string, mainModule?: string) => {
    const side = await runWorker(label, ['dropkit', project, SLOT, ...(mainModule ? [mainModule] : [])]);
    const run = JSON.parse(side.output.at(-1) ?? '{}') as { status?: string; manifest?: string };
    if (run.status !== 'delivered' || !run.manifest) throw new Error(`${label} did not deliver: ${side.output.join('\n')}`);
    const manifest = JSON.parse(readFileSync(run.manifest, 'utf8')) as Manifest;
    if (manifest.rowCount !== rows) throw new Error(`${label} delivered ${manifest.rowCount} rows, expected ${rows}`);
    // The next round delivers afresh: everything the run wrote goes.
    for (const name of readdirSync(project)) if (name !== 'dropkit.yaml' && name !== 'feeds') rmSync(join(project, name), { recursive: true, force: true });
    return { ...side, manifest };
  };
  const runners: Runner[] = [
    async () => {
      const rawOut = join(dir, 'raw');
      mkdirSync(rawOut, { recursive: true });
      out.raw.push(await runWorker('raw DuckDB', ['duckdb', source, rawOut, ...(gzip ? ['gzip'] : [])]));
      rmSync(rawOut, { recursive: true, force: true }); // free the disk before the next side writes its own copy
    },
    async () => void out.dropkit.push(withTimings(await deliver('dropkit'))),
    ...(baseline ? [async () => void out.baseline.push(withTimings(await deliver('before', join(baseline, 'dist', 'lib', 'cli', 'main.js'))))] : []),
  ];
  for (let round = 0; round < pairs; round++) {
    process.stderr.write(`  ${fmt(rows, 0)} rows${gzip ? ', gzip' : ''}: round ${round + 1} of ${pairs}\n`);
    for (let i = 0; i < runners.length; i++) await runners[(i + round) % runners.length]();
  }
  return out;
}

/** The manifest's step timings, as phases in ms, kept on the side. */
function withTimings(side: Side & { manifest: Manifest }): Side {
  const tm = side.manifest.timings;
  const span = (a: string, b: string) => Date.parse(b) - Date.parse(a);
  const phases = {
    stage: span(tm.startedAt, tm.stagedAt),
    validate: span(tm.stagedAt, tm.validatedAt),
    render: span(tm.validatedAt, tm.renderedAt),
    publish: span(tm.renderedAt, tm.publishedAt),
  };
  return { label: side.label, wallMs: side.wallMs, output: side.output, result: { ...side.result, phases } };
}

function runReport(m: Measured, goal: string): string[] {
  const sides = [m.raw, m.dropkit, m.baseline].filter((s) => s.length);
  const lines = [goal, ''];
  lines.push(
    table(
      ['', 'wall s', 'CPU s', 'peak RSS MB', 'phases (medians, s)'],
      sides.map((s) => [
        s[0].label,
        spread(
          s.map((x) => x.wallMs),
          (n) => fmt(n / 1000, 2),
        ),
        spread(
          s.map((x) => x.result.cpuMs),
          (n) => fmt(n / 1000, 2),
        ),
        spread(
          s.map((x) => mb(x.result.maxRssBytes)),
          (n) => fmt(n, 0),
        ),
        Object.keys(s[0].result.phases)
          .map((k) => `${k} ${fmt(median(s.map((x) => x.result.phases[k])) / 1000, 2)}`)
          .join(', '),
      ]),
    ),
  );
  lines.push('');
  const ratio = (a: Side[], b: Side[]) => a.map((x, i) => x.wallMs / b[i].wallMs);
  const cpuRatio = (a: Side[], b: Side[]) => a.map((x, i) => x.result.cpuMs / b[i].result.cpuMs);
  const both = (a: Side[], b: Side[]) => `wall ${spread(ratio(a, b), times)}, CPU ${spread(cpuRatio(a, b), times)}`;
  lines.push(`dropkit / raw DuckDB: ${both(m.dropkit, m.raw)} (each round's pair)`);
  if (m.baseline.length) {
    lines.push(`before / raw DuckDB: ${both(m.baseline, m.raw)}`);
    lines.push(`dropkit / before: ${both(m.dropkit, m.baseline)}`);
  }
  return lines;
}

/** Wall time of a short command, best and median of `n`. */
function timeCommand(args: string[], n: number, cwd?: string, env?: NodeJS.ProcessEnv): number[] {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd, env });
    ms.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  }
  return ms;
}

/** Runs another bench script of the project, its output passed through. */
function passThrough(script: string, args: string[]): void {
  const r = spawnSync(process.execPath, [join(__dirname, script), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${script} exited ${r.status}`);
}

async function bench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '5000000,20000000' },
      'rss-rows': { type: 'string', default: '1000000,20000000' },
      only: { type: 'string', default: GOALS.join(',') },
      pairs: { type: 'string', default: '1' },
      baseline: { type: 'string' },
      keep: { type: 'boolean', default: false },
      transform: { type: 'boolean', default: false },
    },
  });
  if (values.transform) {
    // --rows takes a comma-separated list here: each size in fresh processes, to compare peak RSS.
    if (!(await transformBench(parseRows(values.rows), values.keep))) process.exitCode = 1;
    return;
  }
  const goals = values.only.split(',').map((g) => g.trim()) as Goal[];
  const unknown = goals.filter((g) => !(GOALS as readonly string[]).includes(g));
  if (unknown.length) throw new Error(`--only: unknown goal ${unknown.join(', ')}; choose from ${GOALS.join(', ')}`);
  const pairs = Number(values.pairs);
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`--pairs must be a positive integer, got ${values.pairs}`);
  const sizes = parseRows(values.rows);
  const rssSizes = parseRows(values['rss-rows']);
  const baseline = values.baseline ? resolve(values.baseline) : undefined;
  const print = (lines: string[]) => process.stdout.write(lines.join('\n') + '\n\n');

  const cores = availableParallelism();
  const [load1, load5] = loadavg();
  print([
    `dropkit bench: ${cores} cores (os.availableParallelism()), load average ${fmt(load1, 2)} / ${fmt(load5, 2)} (1 / 5 min) at the start; ${pairs} round(s) per comparison` +
      (baseline ? `; baseline build ${baseline}` : ''),
  ]);

  const dir = mkdtempSync(join(tmpdir(), 'dropkit-bench-'));
  try {
    const sources = new Map<number, string>();
    const sourceOf = async (rows: number) => {
      if (!sources.has(rows)) {
        const path = join(dir, `events-${rows}.parquet`);
        process.stderr.write(`generating ${fmt(rows, 0)} rows into ${path} …\n`);
        await generateSource(path, rows);
        sources.set(rows, path);
      }
      return sources.get(rows)!;
    };
    const measured = new Map<number, Measured>();
    if (goals.includes('run')) {
      for (const rows of sizes) {
        const m = await measure(dir, await sourceOf(rows), rows, false, pairs, baseline);
        measured.set(rows, m);
        print(
          runReport(m, `run: ${fmt(rows, 0)} rows x 10 columns -> CSV + Parquet (zstd), row_count + unique checks. Goal: dropkit <= 1.05x raw DuckDB COPY`),
        );
      }
    }
    if (goals.includes('gzip')) {
      const rows = sizes[0];
      const m = await measure(dir, await sourceOf(rows), rows, true, pairs, baseline);
      print(runReport(m, `gzip: ${fmt(rows, 0)} rows, CSV gzipped (Node's zlib; raw DuckDB: COMPRESSION gzip) + Parquet. Goal: dropkit <= 0.8x raw DuckDB`));
    }
    if (goals.includes('rss')) {
      const peaks: string[][] = [];
      const byBuild: Record<string, number[]> = { dropkit: [], before: [] };
      for (const rows of rssSizes) {
        const m = measured.get(rows) ?? (await measure(dir, await sourceOf(rows), rows, false, 1, baseline));
        measured.set(rows, m);
        const peak = (s: Side[]) => median(s.map((x) => mb(x.result.maxRssBytes)));
        // CPU beside the peak: a smaller budget trades memory for spilling.
        const cpu = (s: Side[]) => (s.length ? `${fmt(peak(s), 0)} (${fmt(median(s.map((x) => x.result.cpuMs)) / 1000, 1)} CPU-s)` : '');
        byBuild.dropkit.push(peak(m.dropkit));
        if (m.baseline.length) byBuild.before.push(peak(m.baseline));
        peaks.push([fmt(rows, 0), cpu(m.raw), cpu(m.dropkit), cpu(m.baseline)]);
      }
      const swing = (xs: number[]) => `${fmt((100 * (Math.max(...xs) - Math.min(...xs))) / Math.min(...xs), 0)}% from the smallest`;
      print([
        `rss: peak RSS (MB) of the whole process, native DuckDB included. Goal: flat within ±15% from ${fmt(rssSizes[0], 0)} to ${fmt(rssSizes.at(-1)!, 0)} rows`,
        '',
        table(['rows', 'raw DuckDB', 'dropkit', 'before'], peaks),
        '',
        `dropkit: ${swing(byBuild.dropkit)}` + (byBuild.before.length ? `; before: ${swing(byBuild.before)}` : ''),
      ]);
    }
    if (goals.includes('profile')) {
      const rows = sizes[0];
      // The profile is part of the run; timed apart here to show its share.
      const profile = await profileCost(await sourceOf(rows));
      const run = measured.get(rows);
      const runMs = run ? median(run.dropkit.map((s) => s.wallMs)) : undefined;
      const runCpu = run ? median(run.dropkit.map((s) => s.result.cpuMs)) / 1000 : undefined;
      const took = (t: { ms: number; cpuSeconds: number }) => `${seconds(t.ms)} (${fmt(t.cpuSeconds, 2)} CPU-s)`;
      print([
        `profile: ${fmt(rows, 0)} rows. Goal: under 5% of a run`,
        `checks' aggregate scan ${took(profile.scan)}; the profile as DuckDB runs it (file metadata + a sample) ${took(profile.sampled)}; ` +
          `top values of ${profile.topColumns.length} column(s) ${took(profile.topValues)}; ` +
          `for comparison, the profile's aggregates in the checks' scan ${took(profile.scanWithProfile)}`,
        `profile cost ${seconds(profile.profileMs)}, ${fmt(profile.profileCpuSeconds, 2)} CPU-s` +
          (runMs && runCpu
            ? ` = ${fmt((100 * profile.profileMs) / runMs, 1)}% of the dropkit run's wall time (median ${seconds(runMs)}), ` +
              `${fmt((100 * profile.profileCpuSeconds) / runCpu, 1)}% of its CPU (median ${fmt(runCpu, 2)} CPU-s)`
            : ' (add the run goal for its share)'),
      ]);
    }
    if (goals.includes('check')) {
      const bin = join(__dirname, '..', 'bin', 'dropkit.js');
      // A copy of the example with its data generated (check reads the sources' schemas).
      const example = join(dir, 'shop');
      cpSync(join(__dirname, '..', '..', 'examples', 'shop'), example, { recursive: true });
      await generateShopData(example, '2024-01-15');
      const many = join(dir, 'many-feeds');
      await writeManyFeeds(many, 200);
      // Each process writes its own CPU seconds (user + system, every thread) as it exits.
      const probe = join(dir, 'cpu-at-exit.js');
      writeFileSync(
        probe,
        `process.on('exit', () => require('node:fs').appendFileSync(${JSON.stringify(join(dir, 'cpu.txt'))}, (() => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 + '\\n'; })()));`,
      );
      const timed = (args: string[], n: number, env: NodeJS.ProcessEnv = process.env): string[] => {
        rmSync(join(dir, 'cpu.txt'), { force: true });
        const wall = timeCommand(['--require', probe, ...args], n, undefined, env);
        const cpu = readFileSync(join(dir, 'cpu.txt'), 'utf8').trim().split('\n').map(Number);
        return [spread(wall, (ms) => fmt(ms / 1000, 2)), spread(cpu, (ms) => fmt(ms / 1000, 2))];
      };
      // Cold: every feed's SQL compiled in DuckDB (--no-cache); warm: every answer from the cache,
      // which lives in the bench's temp folder, filled by one check before the timed ones.
      const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') };
      const rows = [['node -e 0 (Node alone)', ...timed(['-e', '0'], 5), '']];
      for (const [label, project, n, goal] of [
        ['the example', example, 5, '0.2'],
        ['200 feeds', many, 3, '1.0'],
      ] as const) {
        rows.push([`check, ${label}, cold`, ...timed([bin, 'check', '--no-cache', '--project', project], n, env), goal]);
        timeCommand([bin, 'check', '--project', project], 1, undefined, env);
        rows.push([`check, ${label}, warm`, ...timed([bin, 'check', '--project', project], n, env), goal]);
        if (baseline) rows.push([`before: check, ${label}`, ...timed([join(baseline, 'dist', 'bin', 'dropkit.js'), 'check', '--project', project], n), '']);
      }
      print([
        `check: \`dropkit check\` in a fresh process each time (load ${loadavg()[0].toFixed(1)})`,
        '',
        table(['', 'wall s', 'CPU s', 'goal s (wall)'], rows),
      ]);
    }
    if (goals.includes('run-all')) {
      process.stdout.write(`run-all: goal <= 0.55x of --concurrency 1 (the default is now ${cores * 2}: two per core)\n`);
      passThrough('bench-run-all.js', ['--concurrency', [...new Set([1, 2, cores, cores * 2])].join(',')]);
      process.stdout.write('\n');
    }
    if (goals.includes('lambdas')) {
      process.stdout.write('lambdas: goal <= 120 ms cold require and <= 1 MB each\n');
      passThrough('lambda-bundles.js', []);
      process.stdout.write('\n');
    }
    if (goals.includes('diff')) {
      process.stdout.write('diff: change set of two 1M-row drops (issue 21)\n');
      passThrough('bench-diff.js', []);
    }
    if (values.keep) process.stderr.write(`kept ${dir}\n`);
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

bench().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
