import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { assertValidManifest } from '../../lib/core/manifest-schema';
import { runFeed } from '../helpers/local-run';
import { PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

/** Values Parquet cannot hold as they are, through a whole run: the files and the manifest agree (issue 14). */
describe('a drop of values Parquet cannot hold as they are', () => {
  let project: TempProject;
  const SQL = `SELECT 1 AS id, 99999999999999999999999999999999999999::HUGEINT AS h, INTERVAL '-1 day 2000 hours' AS i,
    [INTERVAL '1 microsecond'] AS il, '12:34:56+05:30'::TIMETZ AS t, 1.10::DECIMAL(5,2) AS d\n`;
  beforeEach(async () => {
    project = tempProject({
      'dropkit.yaml': PROJECT_YAML,
      'feeds/daily.yaml': dailyFeed('daily'),
      'feeds/daily.sql': SQL,
      'feeds/csvonly.yaml': dailyFeed('csvonly').replace('  parquet: {}\n', ''),
      'feeds/csvonly.sql': `SELECT 1 AS id, INTERVAL '-1 day' AS i\n`,
    });
    await writeParquet(join(project.dir, 'data/events.parquet'), eventsSelect());
  });
  afterEach(() => project.cleanup());

  it('delivers exact values in both files, and the manifest says the Parquet type of each converted column', async () => {
    const { outcome, store } = await runFeed(project.dir, 'daily', { slot: '2024-01-15T06:00:00Z' });
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('delivered');
    const manifest = outcome.manifest!;
    expect(() => assertValidManifest(manifest)).not.toThrow();
    expect(manifest.schema.columns).toEqual([
      { name: 'id', type: 'INTEGER', nullable: true },
      { name: 'h', type: 'HUGEINT', nullable: true, parquetType: 'DECIMAL(38,0)' },
      { name: 'i', type: 'INTERVAL', nullable: true, parquetType: 'VARCHAR' },
      { name: 'il', type: 'INTERVAL[]', nullable: true, parquetType: 'VARCHAR[]' },
      { name: 't', type: 'TIME WITH TIME ZONE', nullable: true, parquetType: 'VARCHAR' },
      { name: 'd', type: 'DECIMAL(5,2)', nullable: true },
    ]);
    const csv = readFileSync(store.localPath(outcome.manifestKey!.replace('manifest.json', 'part-00000.csv')), 'utf8');
    expect(csv).toBe('id,h,i,il,t,d\n1,99999999999999999999999999999999999999,P-1DT2000H,"[""PT0.000001S""]",12:34:56+05:30,1.10\n');

    // What the Parquet file holds, as a reader sees it: the manifest's parquetType, or type.
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const path = store.localPath(outcome.manifestKey!.replace('manifest.json', 'part-00000.parquet'));
      const described = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}', hive_partitioning = false)`)).getRowsJson() as string[][];
      expect(described.map((r) => r[1])).toEqual(manifest.schema.columns.map((col) => col.parquetType ?? col.type));
      const values = (await c.runAndReadAll(`SELECT h::VARCHAR, i, il[1], t FROM read_parquet('${path}', hive_partitioning = false)`)).getRowsJson();
      expect(values).toEqual([['99999999999999999999999999999999999999', 'P-1DT2000H', 'PT0.000001S', '12:34:56+05:30']]);
    } finally {
      c.closeSync();
      db.closeSync();
    }
  });

  it('delivers a negative INTERVAL in a CSV-only feed', async () => {
    const { outcome, store } = await runFeed(project.dir, 'csvonly', { slot: '2024-01-15T06:00:00Z' });
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('delivered');
    expect(outcome.manifest!.schema.columns[1]).toEqual({ name: 'i', type: 'INTERVAL', nullable: true });
    const csv = readFileSync(store.localPath(outcome.manifestKey!.replace('manifest.json', 'part-00000.csv')), 'utf8');
    expect(csv).toBe('id,i\n1,P-1D\n');
  });

  it('fails the run before anything is published when a HUGEINT is too wide for the Parquet file', async () => {
    project.write('feeds/daily.sql', `SELECT 1 AS id, 170141183460469231731687303715884105727::HUGEINT AS h\n`);
    const { outcome } = await runFeed(project.dir, 'daily', { slot: '2024-01-15T06:00:00Z' });
    expect(outcome.status).toBe('failed');
    expect(outcome.manifestKey).toBeNull();
    expect(outcome.error?.message).toMatch(/column "h" \(HUGEINT\) holds 170141183460469231731687303715884105727.*CAST the column AS VARCHAR/);
  });
});
