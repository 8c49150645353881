import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { emptyParquet } from '../../lib/adapters/athena/empty-parquet';
import { numRowsOfFileMetaData, parquetRowsFromTail } from '../../lib/adapters/athena/parquet-footer';

describe('emptyParquet', () => {
  it('writes a file DuckDB opens with every column in its type and no rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dropkit-empty-parquet-'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const types = [
        'INTEGER',
        'BIGINT',
        'SMALLINT',
        'TINYINT',
        'VARCHAR',
        'DECIMAL(5,1)',
        'DECIMAL(12,2)',
        'DECIMAL(38,6)',
        'DOUBLE',
        'FLOAT',
        'BOOLEAN',
        'DATE',
        'TIMESTAMP',
        'TIMESTAMP WITH TIME ZONE',
        'BLOB',
      ];
      // Past 14 columns a Thrift list header takes its size apart: more columns than that.
      const columns = [...types.map((type, i) => ({ name: `c${i}`, type })), { name: 'quoted "name"', type: 'VARCHAR(20)' }];
      const body = emptyParquet(columns);
      const path = join(dir, 'empty.parquet');
      writeFileSync(path, body);
      const described = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).getRowObjectsJson();
      expect(described.map((r) => [r.column_name, r.column_type])).toEqual([...types.map((type, i) => [`c${i}`, type]), ['quoted "name"', 'VARCHAR']]);
      expect(Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${path}')`)).getRows()[0][0])).toBe(0);
      // Our own footer reader agrees.
      expect(parquetRowsFromTail(body)).toBe(0);
      expect(numRowsOfFileMetaData(body.subarray(4, body.length - 8))).toBe(0);
    } finally {
      c.closeSync();
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a type it cannot spell, naming the column', () => {
    expect(() => emptyParquet([{ name: 'tags', type: 'VARCHAR[]' }])).toThrow(/column tags: type VARCHAR\[\] has no Parquet spelling/);
  });
});
