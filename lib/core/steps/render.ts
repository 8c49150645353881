import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import type { ObjectStore } from '../../ports/object-store';
import type { QueryEngine, StagedTable } from '../../ports/query-engine';
import { writeCsvParts } from '../../render/csv-writer';
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
  const files: RenderedFile[] = [];
  if (formats.csv) files.push(...(await renderCsv(plan, staged, formats.csv, deps)));
  if (formats.parquet) files.push(...(await renderParquet(plan, staged, formats.parquet, deps)));
  return files;
}

async function renderCsv(plan: RunPlan, staged: StagedTable, dialect: CsvDialect, deps: RenderDeps): Promise<RenderedFile[]> {
  const parts = await writeCsvParts({
    columns: staged.columns.map((c) => c.name),
    batches: deps.engine.streamText(staged),
    dialect,
    openPart: (fileName) => {
      const stream = new PassThrough();
      const finished = deps.store.put(plan.keys.staging + fileName, stream, { contentType: dialect.gzip ? 'application/gzip' : 'text/csv' }).then(() => undefined);
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
    stagingKey: plan.keys.staging + p.fileName,
  }));
}

async function renderParquet(plan: RunPlan, staged: StagedTable, options: ParquetOptions, deps: RenderDeps): Promise<RenderedFile[]> {
  const dir = join(deps.workDir, plan.runId, 'parquet');
  try {
    const exported = await deps.engine.exportParquet(staged, { compression: options.compression, maxRowsPerFile: options.maxRowsPerFile, dir });
    const files: RenderedFile[] = [];
    let rowsSoFar = 0;
    for (const file of exported) {
      const name = basename(file.path);
      const key = plan.keys.staging + name;
      const { bytes, sha256 } = await putHashed(deps.store, key, createReadStream(file.path), 'application/vnd.apache.parquet');
      rowsSoFar += file.rows;
      deps.onProgress?.({ format: 'parquet', rows: rowsSoFar, bytes });
      files.push({ path: name, format: 'parquet', compression: options.compression === 'uncompressed' ? 'none' : options.compression, rows: file.rows, bytes, sha256, stagingKey: key });
    }
    return files;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
