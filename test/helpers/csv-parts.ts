import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { LocalStore } from '../../lib/adapters/local/local-store';
import type { PartSink } from '../../lib/core/csv/csv-writer';
import type { CsvDialect } from '../../lib/core/feed/feed-schema';
import type { QueryEngine, StagedTable } from '../../lib/core/ports/query-engine';

/** One CSV part as a test compares it: its rows and its bytes, decompressed. */
export interface Part {
  rows: number;
  bytes: Buffer;
}

/** Part sinks that keep every part in memory; `done` pairs them with the rows the writer reported. */
export function memoryParts(gzip: boolean): { openPart: () => PartSink; done: (rows: readonly number[]) => Part[] } {
  const stored: Buffer[][] = [];
  return {
    openPart: () => {
      const chunks: Buffer[] = [];
      stored.push(chunks);
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const stream = new Writable({
        write(chunk: Buffer, _enc, cb) {
          chunks.push(chunk);
          cb();
        },
        final(cb) {
          cb();
          done();
        },
      });
      return { stream, finished };
    },
    done: (rows) => rows.map((n, i) => ({ rows: n, bytes: gzip ? gunzipSync(Buffer.concat(stored[i])) : Buffer.concat(stored[i]) })),
  };
}

/** What an engine's own CSV export wrote into a local store, decompressed; undefined when it declines. */
export async function exportedParts(
  engine: QueryEngine,
  store: LocalStore,
  staged: StagedTable,
  dialect: CsvDialect,
  prefix: string,
): Promise<Part[] | undefined> {
  const files = await engine.exportCsv?.(staged, { dialect, prefix });
  if (!files) return undefined;
  return Promise.all(
    files.map(async (f) => {
      const bytes = await readFile(store.localPath(f.key));
      return { rows: f.rows, bytes: dialect.gzip ? gunzipSync(bytes) : bytes };
    }),
  );
}

/** Same rows per part and the same bytes: as text first for a readable diff, then as bytes. */
export function expectSameBytes(actual: readonly Part[], expected: readonly Part[]): void {
  expect(actual.map((p) => p.rows)).toEqual(expected.map((p) => p.rows));
  for (const [i, part] of actual.entries()) {
    expect(part.bytes.toString('utf8')).toBe(expected[i].bytes.toString('utf8'));
    expect(part.bytes.equals(expected[i].bytes)).toBe(true);
  }
}
