import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import type { ObjectStore } from '../../ports/object-store';
import type { ExportedFile, StagedTable } from '../../ports/query-engine';
import { csvFileName, writeCsvParts } from '../csv/csv-writer';
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

/** SHA-256 and size of a stored object, read as a stream. */
export async function hashObject(store: ObjectStore, key: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of await store.read(key)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Stores a stream while counting and hashing exactly the bytes stored. */
export async function putHashed(store: ObjectStore, key: string, body: Readable, contentType: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  // An error of the body fails the store's read of `counter`. Listened to here too: a put that fails
  // before reading (refused, store gone) leaves no reader, and the body's late error (its file
  // removed by the caller's cleanup before it opened) would be an uncaught exception.
  body.on('error', (e) => counter.destroy(e));
  counter.on('error', () => undefined);
  try {
    await store.put(key, body.pipe(counter), { contentType });
  } catch (error) {
    body.destroy(); // Unread: let go of its file.
    throw error;
  }
  return { bytes, sha256: hash.digest('hex') };
}

export { csvFileName };
