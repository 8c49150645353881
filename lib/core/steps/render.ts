import { PassThrough } from 'node:stream';
import type { ExportedFile, StagedTable } from '../ports/query-engine';
import { csvFileName, writeCsvParts } from '../csv/csv-writer';
import { hashObject } from '../hash';
import type { CsvDialect, ParquetOptions } from '../feed/feed-schema';
import type { ManifestFile } from '../manifest';
import { need, RunState } from './run-state';
import type { StepDeps } from './step-deps';

/** A rendered file, in staging until publish moves it into the drop. */
export interface RenderedFile extends ManifestFile {
  readonly stagingKey: string;
}

export type RenderFormat = 'csv' | 'parquet';

export interface RenderProgress {
  readonly format: RenderFormat;
  readonly rows: number;
  readonly bytes: number;
}

export interface RenderDeps extends Pick<StepDeps, 'feeds' | 'engine' | 'store'> {
  readonly onProgress?: (p: RenderProgress) => void;
}

/** The formats a feed delivers, in manifest order. */
export function formatsOf(state: RunState, deps: Pick<StepDeps, 'feeds'>): RenderFormat[] {
  const formats = deps.feeds.get(state.plan.feed).spec.formats;
  return (['csv', 'parquet'] as const).filter((f) => formats[f] !== undefined);
}

/**
 * The render step for one format: writes its files from the staged rows into this attempt's
 * staging prefix and reports rows, bytes and SHA-256 of each. On AWS each format is its own
 * state; locally both run at once (the engine writes one while Node stores the other).
 */
export async function renderFormatStep(state: RunState, format: RenderFormat, deps: RenderDeps): Promise<RenderedFile[]> {
  const staged = need(state, 'staged', 'render');
  const formats = deps.feeds.get(state.plan.feed).spec.formats;
  if (format === 'csv') {
    if (!formats.csv) throw new Error(`${state.plan.feed} delivers no CSV`);
    return renderCsv(state.stagingPrefix, staged, formats.csv, deps);
  }
  if (!formats.parquet) throw new Error(`${state.plan.feed} delivers no Parquet`);
  return renderParquet(state.stagingPrefix, staged, formats.parquet, deps);
}

/** Every format of the drop; the files in manifest order (CSV, then Parquet). */
export async function renderStep(state: RunState, deps: RenderDeps & Pick<StepDeps, 'clock'>): Promise<RunState> {
  const settled = await Promise.allSettled(formatsOf(state, deps).map((f) => renderFormatStep(state, f, deps)));
  // Both settle before anything is thrown: the caller cleans up only once nothing writes.
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  const files = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
  return { ...state, files, timings: { ...state.timings, renderedAt: deps.clock.now().toISOString() } };
}

async function renderCsv(prefix: string, staged: StagedTable, dialect: CsvDialect, deps: RenderDeps): Promise<RenderedFile[]> {
  // The engine's own writer when it can give the Node writer's bytes (much faster), else Node.
  const exported = await deps.engine.exportCsv?.(staged, { dialect, prefix });
  if (exported) {
    return described(exported, deps, 'csv', (file, name, hashed) => ({
      path: name,
      format: 'csv',
      compression: dialect.gzip ? 'gzip' : 'none',
      rows: file.rows,
      ...hashed,
      stagingKey: file.key,
    }));
  }
  const parts = await writeCsvParts({
    columns: staged.columns.map((c) => c.name),
    batches: deps.engine.streamText(staged),
    dialect,
    openPart: (fileName) => {
      const stream = new PassThrough();
      const finished = deps.store.put(prefix + fileName, stream, { contentType: csvContentType(dialect) }).then(() => undefined);
      return { stream, finished };
    },
    onProgress: (rows, bytes) => deps.onProgress?.({ format: 'csv', rows, bytes }),
  });
  return parts.map((p) => ({
    path: p.fileName,
    format: 'csv',
    compression: dialect.gzip ? 'gzip' : 'none',
    rows: p.rows,
    bytes: p.bytes,
    sha256: p.sha256,
    stagingKey: prefix + p.fileName,
  }));
}

async function renderParquet(prefix: string, staged: StagedTable, options: ParquetOptions, deps: RenderDeps): Promise<RenderedFile[]> {
  const exported = await deps.engine.exportParquet(staged, { compression: options.compression, maxRowsPerFile: options.maxRowsPerFile, prefix });
  const compression = options.compression === 'uncompressed' ? 'none' : options.compression;
  return described(exported, deps, 'parquet', (file, name, hashed) => ({
    path: name,
    format: 'parquet',
    compression,
    rows: file.rows,
    ...hashed,
    stagingKey: file.key,
  }));
}

/** Names, sizes and hashes of exported files; an object the engine did not hash is read back once. */
async function described(
  exported: readonly ExportedFile[],
  deps: RenderDeps,
  format: RenderFormat,
  make: (file: ExportedFile, name: string, hashed: { bytes: number; sha256: string }) => RenderedFile,
): Promise<RenderedFile[]> {
  const files: RenderedFile[] = [];
  let rows = 0;
  let bytes = 0;
  for (const file of exported) {
    const hashed = file.sha256 !== undefined && file.bytes !== undefined ? { bytes: file.bytes, sha256: file.sha256 } : await hashObject(deps.store, file.key);
    rows += file.rows;
    bytes += hashed.bytes;
    deps.onProgress?.({ format, rows, bytes });
    files.push(make(file, file.key.slice(file.key.lastIndexOf('/') + 1), hashed));
  }
  return files;
}

export function csvContentType(dialect: Pick<CsvDialect, 'gzip'>): string {
  return dialect.gzip ? 'application/gzip' : 'text/csv';
}

export { csvFileName };
