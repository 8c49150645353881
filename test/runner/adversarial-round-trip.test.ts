import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Manifest } from '../../lib/core/manifest';
import { readJson, runFeed } from '../helpers/local-run';
import { tempProject, TempProject, writeParquet } from '../helpers/temp-project';
import { ADVERSARIAL_COLUMNS, ADVERSARIAL_ROWS } from '../helpers/adversarial';

/**
 * Values CSV writers get wrong, through the whole pipeline (DuckDB → canonical text → CSV dialect),
 * read back by an independent parser (csv-parse) and, for Parquet, by DuckDB.
 */
const ADVERSARIAL = `SELECT * FROM (VALUES ${ADVERSARIAL_ROWS}
) ${ADVERSARIAL_COLUMNS}`;

/** What every dialect must give back: the canonical text of each value, or null. */
const EXPECTED: (string | null)[][] = [
  ['1', 'plain', '0.1000000000', 'true', '2024-03-30T23:30:00Z', '2024-02-29'],
  ['2', 'say "hi"', '12345678901234567890.1234567890', 'false', '2024-01-01T00:00:00.000001Z', '1970-01-01'],
  ['3', 'a,b;c\td|e', '-0.0000000001', null, null, null],
  ['4', 'line1\nline2\r\nline3\rend', '0.0000000000', 'true', '2024-10-27T01:30:00Z', '2024-10-27'],
  ['5', '', '1.0000000000', 'false', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['6', null, null, null, null, null],
  ['7', '  padded  ', '2.5000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['8', '\\N', '3.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['9', 'NULL', '4.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['10', "emoji 🚀 東京 é (e\u0301) 'single'", '5.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['11', 'long,"value"'.repeat(5000), '6.0000000000', 'false', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['12', '#N/A', '7.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['13', '# not a comment', '8.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['14', '\r', '9.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['15', '\n', '10.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['16', '\uFEFFleading BOM', '11.0000000000', 'true', '2024-01-15T06:00:00.123000Z', '2024-01-15'],
  ['17', 'inside\uFEFFBOM', '12.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['18', '\uFEFF', '13.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['19', 'nul\u0000byte', '14.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['20', 'line\u2028sep\u2029para\u0085nel', '15.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['21', '👩\u200d👩\u200d👧 🇳🇱 👍🏽 𝄞', '16.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
  ['22', '\u0301starts combining, stacked e\u0301\u0302\u0323', '17.0000000000', 'true', '2024-01-15T06:00:00Z', '2024-01-15'],
];

const DIALECTS: Record<string, string> = {
  'comma, LF, quote as needed, empty null': '{ gzip: false }',
  'semicolon, CRLF, quote all, \\N null, BOM': '{ delimiter: ";", lineEnding: crlf, quoting: all, nullText: "\\\\N", encoding: utf-8-bom, gzip: false }',
  'tab, NULL null, gzip, split every 4 rows': '{ delimiter: "\\t", nullText: "NULL", gzip: true, maxRowsPerFile: 4 }',
  'pipe, single-quote quoting, no header': `{ delimiter: "|", quote: "'", header: false, gzip: false }`,
};

function feedYaml(csv: string): string {
  return `name: tricky
description: adversarial values
owner: tests@example.com
schedule:
  cron: "0 6 * * *"
sla:
  deliverWithin: PT1H
formats:
  csv: ${csv}
  parquet: {}
`;
}

describe('adversarial values round trip through the pipeline', () => {
  let p: TempProject;
  beforeAll(async () => {
    p = tempProject({ 'dropkit.yaml': 'name: t\nsources:\n  src: data/src.parquet\n', 'feeds/tricky.sql': 'SELECT * FROM src ORDER BY id' });
    await writeParquet(join(p.dir, 'data/src.parquet'), ADVERSARIAL);
  });
  afterAll(() => p.cleanup());

  for (const [name, csv] of Object.entries(DIALECTS)) {
    it(`reads back every value exactly: ${name}`, async () => {
      p.write('feeds/tricky.yaml', feedYaml(csv));
      const { outcome, store } = await runFeed(p.dir, 'tricky', { slot: '2024-01-15T06:00:00Z', rerun: true });
      expect(outcome.status).toBe('delivered');
      const manifest = await readJson<Manifest>(store, outcome.manifestKey!);
      const dialect = manifest.csv!;
      const dir = outcome.manifestKey!.replace('manifest.json', '');
      const rows: (string | null)[][] = [];
      for (const f of manifest.files.filter((x) => x.format === 'csv')) {
        let bytes = readFileSync(store.localPath(dir + f.path));
        if (f.compression === 'gzip') bytes = gunzipSync(bytes);
        let text = bytes.toString('utf8');
        if (dialect.encoding === 'utf-8-bom') {
          expect(text.charCodeAt(0)).toBe(0xfeff);
          text = text.slice(1);
        }
        if (dialect.lineEnding === 'crlf') expect(text.endsWith('\r\n')).toBe(true);
        const records: (string | null)[][] = parse(text, {
          delimiter: dialect.delimiter,
          quote: dialect.quote,
          escape: dialect.quote,
          record_delimiter: dialect.lineEnding === 'crlf' ? '\r\n' : '\n',
          relax_column_count: false,
          // A bare null text is NULL; the same text quoted is a string.
          cast: (value, context) => (!context.quoting && value === dialect.nullText ? null : value),
        });
        const body = dialect.header ? records.slice(1) : records;
        if (dialect.header) expect(records[0]).toEqual(['id', 'txt', 'dec', 'flag', 'ts', 'day']);
        expect(body).toHaveLength(f.rows);
        rows.push(...body);
      }
      expect(rows).toEqual(EXPECTED);
    });
  }

  it('writes Parquet that holds exactly the source rows and types', async () => {
    p.write('feeds/tricky.yaml', feedYaml('{ gzip: false }'));
    const { outcome, store } = await runFeed(p.dir, 'tricky', { slot: '2024-01-15T06:00:00Z', rerun: true });
    const parquet = store.localPath(outcome.manifestKey!.replace('manifest.json', 'part-00000.parquet'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`SET TimeZone = 'UTC'`);
    const diff = async (a: string, b: string) => (await c.runAndReadAll(`SELECT count(*) AS n FROM (FROM ${a} EXCEPT ALL FROM ${b})`)).getRowObjectsJson()[0].n;
    const src = `read_parquet('${join(p.dir, 'data/src.parquet')}')`;
    // The drop's path is hive-style (slot=…/run=…): read the file alone, not as a partitioned dataset.
    const out = `read_parquet('${parquet}', hive_partitioning = false)`;
    const types = (await c.runAndReadAll(`SELECT column_type FROM (DESCRIBE SELECT * FROM ${out})`)).getRowObjectsJson().map((r) => r.column_type);
    expect([await diff(src, out), await diff(out, src)]).toEqual(['0', '0']);
    expect(types).toEqual(['INTEGER', 'VARCHAR', 'DECIMAL(38,10)', 'BOOLEAN', 'TIMESTAMP WITH TIME ZONE', 'DATE']);
    c.closeSync();
    db.closeSync();
  });
});
