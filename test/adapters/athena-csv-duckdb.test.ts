import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { openTestEngine, stage } from '../helpers/engine';
import { exportedParts, expectSameBytes, memoryParts, type Part } from '../helpers/csv-parts';
import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import type { CsvDialect } from '../../lib/core/feed/feed-schema';
import { transformAthenaCsv } from '../../lib/adapters/athena/athena-csv-transform';
import { writeCsvParts } from '../../lib/core/csv/csv-writer';
import type { StagedTable } from '../../lib/core/ports/query-engine';
import { ADVERSARIAL_COLUMNS, ADVERSARIAL_COUNT, ADVERSARIAL_ROWS } from '../helpers/adversarial';
import { athenaCsv, chunked } from '../helpers/athena-csv';

/**
 * The Athena path (result CSV → transformAthenaCsv) against the DuckDB paths (DuckDB's own CSV
 * export, and the Node writer over DuckDB's text) on the same rows: the same bytes, part by part.
 * The Athena CSV is written by a test encoder from text DuckDB renders the way Athena prints it
 * (timestamps `YYYY-MM-DD HH:MM:SS.ffffff`), so canonicalFromAthena is checked against
 * canonicalText on real values, and once from canonical text (what the Athena SQL will emit).
 */

const SOURCE = `SELECT * FROM (VALUES ${ADVERSARIAL_ROWS}) ${ADVERSARIAL_COLUMNS} ORDER BY id`;
/** The same rows as Athena prints them: everything text, timestamps with a space and a fraction. */
const AS_ATHENA_PRINTS = `SELECT id::VARCHAR AS id, txt, dec::VARCHAR AS dec, flag::VARCHAR AS flag,
  strftime(timezone('UTC', ts), '%Y-%m-%d %H:%M:%S.%f') AS ts, day::VARCHAR AS day FROM (${SOURCE}) ORDER BY id::INTEGER`;
const ATHENA_TYPES = ['integer', 'varchar', 'decimal(38,10)', 'boolean', 'timestamp(6)', 'date'];

const base: CsvDialect = { delimiter: ',', quote: '"', quoting: 'needed', header: true, nullText: '', lineEnding: 'lf', encoding: 'utf-8', gzip: false };
const d = (over: Partial<CsvDialect> = {}): CsvDialect => ({ ...base, ...over });

/** Dialects, and whether DuckDB's own export writes them (else only the Node writer is compared). */
const DIALECTS: [string, CsvDialect, boolean][] = [
  ['the default', d(), true],
  ['gzip, 4 rows per file', d({ gzip: true, maxRowsPerFile: 4 }), true],
  ['semicolon, quote all, \\N null, CRLF, BOM', d({ delimiter: ';', quoting: 'all', nullText: '\\N', lineEnding: 'crlf', encoding: 'utf-8-bom' }), true],
  ['tab, NULL null, no header', d({ delimiter: '\t', nullText: 'NULL', header: false }), true],
  ['pipe, single quote', d({ delimiter: '|', quote: "'" }), true],
  ['16 KB per file (Node writer only)', d({ maxBytesPerFile: 16 * 1024 }), false],
];

let engine: DuckDbEngine;
let store: LocalStore;
let cleanupEngine: () => Promise<void>;
let work: string;
let source: StagedTable;
let athenaText: StagedTable;
let runs = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dropkit-athena-csv-'));
  ({ engine, store, cleanup: cleanupEngine } = await openTestEngine({ threads: 2 }));
  source = await stage(engine, { runId: 'source', sql: SOURCE, parameters: [] });
  athenaText = await stage(engine, { runId: 'athena-text', sql: AS_ATHENA_PRINTS, parameters: [] });
});
afterAll(async () => {
  await cleanupEngine();
  await rm(work, { recursive: true, force: true });
});

async function collect(iterable: AsyncIterable<(string | null)[][]>): Promise<(string | null)[][]> {
  const rows: (string | null)[][] = [];
  for await (const batch of iterable) rows.push(...batch);
  return rows;
}

async function viaAthena(csv: Buffer, dialect: CsvDialect, columnTypes?: string[]): Promise<Part[]> {
  const sink = memoryParts(dialect.gzip);
  // Cut into odd chunks, so records and characters straddle them.
  const cuts = Array.from({ length: Math.floor(csv.length / 997) }, (_, i) => (i + 1) * 997);
  const { parts } = await transformAthenaCsv({ input: chunked(csv, cuts), dialect, openPart: sink.openPart, columnTypes, batchRows: 5 });
  return sink.done(parts.map((p) => p.rows));
}

async function viaNodeWriter(dialect: CsvDialect): Promise<Part[]> {
  const sink = memoryParts(dialect.gzip);
  const parts = await writeCsvParts({ columns: source.columns.map((c) => c.name), batches: engine.streamText(source, 3), dialect, openPart: sink.openPart });
  return sink.done(parts.map((p) => p.rows));
}

async function viaDuckDb(dialect: CsvDialect): Promise<Part[]> {
  const parts = await exportedParts(engine, store, source, dialect, `export-${runs++}/`);
  if (!parts) throw new Error('DuckDB declined the dialect');
  return parts;
}

describe('Athena result CSV through the transform gives the DuckDB paths bytes', () => {
  it('starts from every adversarial row, in Athena text that differs from the canonical one', async () => {
    const rows = await collect(engine.streamText(athenaText, 100));
    expect(rows).toHaveLength(ADVERSARIAL_COUNT);
    expect(rows.find((r) => r[0] === '16')).toEqual(['16', '\uFEFFleading BOM', '11.0000000000', 'true', '2024-01-15 06:00:00.123000', '2024-01-15']);
    expect(rows.find((r) => r[0] === '1')![4]).toBe('2024-03-30 23:30:00.000000');
  });

  for (const [name, dialect, duckdbWrites] of DIALECTS) {
    it(`from Athena's text with the column types, and from canonical text: ${name}`, async () => {
      const columns = source.columns.map((c) => c.name);
      const athenaPrinted = Buffer.from(athenaCsv(columns, await collect(engine.streamText(athenaText, 7))), 'utf8');
      const canonical = Buffer.from(athenaCsv(columns, await collect(engine.streamText(source, 7))), 'utf8');
      const node = await viaNodeWriter(dialect);
      expectSameBytes(await viaAthena(athenaPrinted, dialect, ATHENA_TYPES), node);
      expectSameBytes(await viaAthena(canonical, dialect), node);
      if (duckdbWrites) expectSameBytes(await viaAthena(athenaPrinted, dialect, ATHENA_TYPES), await viaDuckDb(dialect));
      if (dialect.maxRowsPerFile || dialect.maxBytesPerFile) expect(node.length).toBeGreaterThan(1);
    });
  }
});
