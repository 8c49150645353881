import { createHash } from 'node:crypto';
import { readFile, stat, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { LocalStore } from '../../lib/adapters/local/local-store';
import type { ManifestFile } from '../../lib/core/manifest';
import type { DeliveryRef } from '../../lib/core/destinations/delivery-keys';
import { manifestKey } from '../../lib/core/layout';
import { validManifest } from '../helpers/manifest-fixture';

/**
 * Publishes a drop into a local store the way publish leaves it: a Parquet part and a CSV part
 * written by DuckDB from `select`, then manifest.json. Returns the ref deliverDestinations takes.
 */
export async function publishDrop(store: LocalStore, runId: string, select: string, slot = '20240115T060000Z'): Promise<DeliveryRef> {
  const coords = { prefix: '', feed: 'daily', partner: null };
  const key = manifestKey(coords, slot, runId);
  const dir = key.slice(0, -'manifest.json'.length);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const files: ManifestFile[] = [];
  try {
    for (const [name, format] of [
      ['part-00000.parquet', 'parquet'],
      ['part-00000.csv', 'csv'],
    ] as const) {
      const path = store.localPath(dir + name);
      await mkdir(dirname(path), { recursive: true });
      const res = await c.run(`COPY (${select}) TO '${path}' (FORMAT ${format === 'parquet' ? 'parquet' : 'csv'})`);
      const body = await readFile(path);
      files.push({
        path: name,
        format,
        compression: format === 'parquet' ? 'zstd' : 'none',
        rows: Number(res.rowsChanged),
        bytes: (await stat(path)).size,
        sha256: createHash('sha256').update(body).digest('hex'),
      });
    }
    const described = await c.runAndReadAll(`DESCRIBE ${select}`);
    const columns = described.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type), nullable: true }));
    const manifest = validManifest(files, { runId, schema: { columns }, slot: { ...validManifest([]).slot, id: slot } });
    await store.put(key, JSON.stringify(manifest, null, 2) + '\n');
  } finally {
    c.closeSync();
    db.closeSync();
  }
  return { prefix: '', feed: 'daily', partner: null, slot, runId, manifestKey: key };
}

export function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
