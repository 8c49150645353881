import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { footerLength, parquetRowsFromTail } from '../../lib/adapters/athena/parquet-footer';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dropkit-footer-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** A real Parquet file written by DuckDB. */
async function parquet(select: string, options = 'COMPRESSION zstd'): Promise<Buffer> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const path = join(dir, `f${Math.random().toString(36).slice(2)}.parquet`);
  try {
    await c.run(`COPY (${select}) TO '${path}' (FORMAT parquet, ${options})`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
  return readFile(path);
}

describe('Parquet footer row count', () => {
  it('reads num_rows from the footer of files with many column types, several row groups and key-value metadata', async () => {
    const file = await parquet(
      `SELECT range AS id, 'x' || range AS s, range::DECIMAL(18,2) AS d, TIMESTAMP '2024-01-01' + INTERVAL (range) SECOND AS t, range % 2 = 0 AS b, [range, 1] AS l, {'k': range} AS st, NULL::VARCHAR AS n FROM range(250000)`,
      'COMPRESSION snappy, ROW_GROUP_SIZE 50000',
    );
    expect(parquetRowsFromTail(file)).toBe(250000);
  });

  it('needs only the tail of the file: the footer and the closing 8 bytes', async () => {
    const file = await parquet(`SELECT range AS id FROM range(1234)`);
    const length = footerLength(file.subarray(file.length - 8));
    expect(parquetRowsFromTail(file.subarray(file.length - 8 - length))).toBe(1234);
    expect(() => parquetRowsFromTail(file.subarray(file.length - 8 - length + 1))).toThrow(/only .* were read/);
  });

  it('reads zero rows from an empty file', async () => {
    expect(parquetRowsFromTail(await parquet(`SELECT 1 AS x WHERE false`))).toBe(0);
  });

  it('refuses what is not a Parquet file', () => {
    expect(() => parquetRowsFromTail(Buffer.from('id,name\n1,a\n'))).toThrow(/not a Parquet file/);
  });
});
