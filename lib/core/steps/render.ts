import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { ObjectStore } from '../../ports/object-store';
import type { ExportedFile, QueryEngine, StagedTable } from '../../ports/query-engine';
import { csvFileName, writeCsvParts } from '../csv/csv-writer';
import type { CsvDialect, ParquetOptions } from '../feed/feed-schema';
import type { ManifestFile } from '../manifest';
import type { RunPlan } from './plan';

/** A rendered file, in staging until publish moves it into the drop. */
export interface RenderedFile extends ManifestFile {
  readonly stagingKey: string;
}

export interface RenderProgress {
  readonly format: 'csv' | 'parquet';
  readonly rows: number;
  readonly bytes: number;
}

export interface RenderDeps {
  readonly engine: QueryEngine;
  readonly store: ObjectStore;
  /** Local scratch folder for files the engine writes before they go to the store. */
  readonly workDir: string;
  readonly onProgress?: (p: RenderProgress) => void;
}

/** Writes every format of the drop from the staged table into the run's staging prefix. */
export async function renderDrop(
  plan: RunPlan,
  staged: StagedTable,
  formats: { readonly csv?: CsvDialect; readonly parquet?: ParquetOptions },
  deps: RenderDeps,
): Promise<RenderedFile[]> {
  // CSV files the engine wrote are stored (read, hashed, copied: Node's work) while the engine
  // writes Parquet; Node-written CSV holds the engine until it is done.
  const csv = formats.csv ? await renderCsv(plan, staged, formats.csv, deps) : { stored: Promise.resolve([]) };
  const parquet = formats.parquet ? renderParquet(plan, staged, formats.parquet, deps) : Promise.resolve([]);
  // Both settle before anything is thrown: the caller closes the engine on failure.
  const [csvFiles, parquetFiles] = await Promise.allSettled([csv.stored, parquet]);
  if (csvFiles.status === 'rejected') throw csvFiles.reason;
  if (parquetFiles.status === 'rejected') throw parquetFiles.reason;
  return [...csvFiles.value, ...parquetFiles.value];
}

/** Resolves once the engine is free again; `stored` resolves once every CSV file is in the store. */
async function renderCsv(plan: RunPlan, staged: StagedTable, dialect: CsvDialect, deps: RenderDeps): Promise<{ stored: Promise<RenderedFile[]> }> {
  // The engine's own writer when it can give the Node writer's bytes (much faster), else Node.
  const dir = join(deps.workDir, plan.runId, 'csv');
  const removeDir = () => rm(dir, { recursive: true, force: true });
  let exported: ExportedFile[] | undefined;
  try {
    exported = await deps.engine.exportCsv?.(staged, dialect, dir);
  } catch (error) {
    await removeDir();
    throw error;
  }
  if (exported) return { stored: storeExportedCsv(plan, exported, dialect, deps).finally(removeDir) };
  await removeDir();
  const parts = await writeCsvParts({
    columns: staged.columns.map((c) => c.name),
    batches: deps.engine.streamText(staged),
    dialect,
    openPart: (fileName) => {
      const stream = new PassThrough();
      const finished = deps.store.put(plan.keys.staging + fileName, stream, { contentType: csvContentType(dialect) }).then(() => undefined);
      return { stream, finished };
    },
    onProgress: (rows, bytes) => deps.onProgress?.({ format: 'csv', rows, bytes }),
  });
  return { stored: Promise.resolve(parts.map((p) => csvFile(plan, dialect, p.fileName, p.rows, p.bytes, p.sha256))) };
}

async function storeExportedCsv(plan: RunPlan, exported: readonly ExportedFile[], dialect: CsvDialect, deps: RenderDeps): Promise<RenderedFile[]> {
  const files: RenderedFile[] = [];
  let rowsSoFar = 0;
  let bytesSoFar = 0;
  for (const [index, file] of exported.entries()) {
    const fileName = csvFileName(index, dialect);
    // Gzipped here while stored and hashed: Node's zlib outpaces DuckDB's, and is what the Node writer uses.
    const key = plan.keys.staging + fileName;
    const { bytes, sha256 } = dialect.gzip
      ? await putHashed(deps.store, key, readMaybeGzipped(file.path, true), csvContentType(dialect))
      : await storeFile(deps.store, key, file.path, csvContentType(dialect));
    rowsSoFar += file.rows;
    bytesSoFar += bytes;
    deps.onProgress?.({ format: 'csv', rows: rowsSoFar, bytes: bytesSoFar });
    files.push(csvFile(plan, dialect, fileName, file.rows, bytes, sha256));
  }
  return files;
}

function csvContentType(dialect: CsvDialect): string {
  return dialect.gzip ? 'application/gzip' : 'text/csv';
}

function csvFile(plan: RunPlan, dialect: CsvDialect, fileName: string, rows: number, bytes: number, sha256: string): RenderedFile {
  return { path: fileName, format: 'csv', compression: dialect.gzip ? 'gzip' : 'none', rows, bytes, sha256, stagingKey: plan.keys.staging + fileName };
}

/** Reads a local file in 1 MiB chunks: a third less CPU than the 64 KiB default on files of hundreds of MB. */
function readChunked(path: string): Readable {
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

/** A file as a stream, gzipped on the way when asked; a read error fails the stream. */
function readMaybeGzipped(path: string, gzip: boolean): Readable {
  const file = readChunked(path);
  if (!gzip) return file;
  const gz = createGzip(); // default level, as the Node writer
  file.on('error', (e) => gz.destroy(e));
  return file.pipe(gz);
}

async function renderParquet(plan: RunPlan, staged: StagedTable, options: ParquetOptions, deps: RenderDeps): Promise<RenderedFile[]> {
  const dir = join(deps.workDir, plan.runId, 'parquet');
  try {
    const exported = await deps.engine.exportParquet(staged, { compression: options.compression, maxRowsPerFile: options.maxRowsPerFile, dir });
    const files: RenderedFile[] = [];
    let rowsSoFar = 0;
    let bytesSoFar = 0;
    for (const file of exported) {
      const name = basename(file.path);
      const key = plan.keys.staging + name;
      const { bytes, sha256 } = await storeFile(deps.store, key, file.path, 'application/vnd.apache.parquet');
      rowsSoFar += file.rows;
      bytesSoFar += bytes;
      deps.onProgress?.({ format: 'parquet', rows: rowsSoFar, bytes: bytesSoFar });
      files.push({ path: name, format: 'parquet', compression: options.compression === 'uncompressed' ? 'none' : options.compression, rows: file.rows, bytes, sha256, stagingKey: key });
    }
    return files;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Stores a file the engine wrote. A store that can take the file over (a local folder renames it)
 * does so; any other store gets it streamed, hashed on the way.
 */
async function storeFile(store: ObjectStore, key: string, file: string, contentType: string): Promise<{ bytes: number; sha256: string }> {
  if (!store.putFile) return putHashed(store, key, readChunked(file), contentType);
  const { bytes, sha256 } = await store.putFile(key, file, { contentType });
  return { bytes, sha256 };
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
  body.on('error', (e) => counter.destroy(e));
  await store.put(key, body.pipe(counter), { contentType });
  return { bytes, sha256: hash.digest('hex') };
}
