import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { feedSchema } from '../../lib/core/feed/feed-schema';
import { feedProfileReport, readCsvHead, REDACTED } from '../../lib/report/profile-data';
import { validManifest } from '../helpers/manifest-fixture';
import { tempProject } from '../helpers/temp-project';

const DIALECT = { delimiter: ';', quote: '"', header: true, nullText: '\\N', lineEnding: 'crlf' as const, encoding: 'utf-8-bom' as const };

/** The text in chunks of `size` bytes, so fields and quotes straddle chunk boundaries. */
const chunked = (text: string | Buffer, size: number) => {
  const bytes = Buffer.from(text);
  return Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));
};

describe('the sample preview', () => {
  const csv = '\ufeffid;note;email\r\n1;"a; b";x@y\r\n2;"say ""hi""\r\nthen go";\\N\r\n3;"\\N";z@y\r\n4;d;w@y\r\n';

  it('reads the first rows of a CSV in the drop dialect: quoted delimiters, doubled quotes, line breaks, NULL text', async () => {
    for (const size of [1, 3, 1000]) {
      await expect(readCsvHead(chunked(csv, size), DIALECT, 3)).resolves.toEqual({
        columns: ['id', 'note', 'email'],
        rows: [
          ['1', 'a; b', 'x@y'],
          ['2', 'say "hi"\r\nthen go', null],
          // A quoted \N is the text, not NULL.
          ['3', '\\N', 'z@y'],
        ],
      });
    }
  });

  it('reads a last record without a line ending, and names columns when there is no header', async () => {
    await expect(readCsvHead(chunked('7,x\n8,y', 2), { ...DIALECT, delimiter: ',', header: false, nullText: '' }, 10)).resolves.toEqual({
      columns: ['column 1', 'column 2'],
      rows: [
        ['7', 'x'],
        ['8', 'y'],
      ],
    });
  });

  it('previews the latest drop from its gzipped CSV with pii columns redacted', async () => {
    const p = tempProject({});
    try {
      const store = new LocalStore(p.dir);
      const base = 'drops/orders/slot=20240115T060000Z/run=r1/';
      await store.put(base + 'part-00000.csv.gz', gzipSync(csv));
      const gz = gzipSync(csv);
      const file = { path: 'part-00000.csv.gz', format: 'csv' as const, compression: 'gzip' as const, rows: 4, bytes: gz.length, sha256: 'a'.repeat(64) };
      const manifest = validManifest([file], { feed: 'orders', csv: DIALECT });
      await store.put(base + 'manifest.json', Buffer.from(JSON.stringify(manifest)));
      const feed = feedSchema.parse({
        name: 'orders',
        description: 'd',
        owner: 'o',
        schedule: { cron: '0 6 * * *' },
        sla: { deliverWithin: 'PT1H' },
        formats: { csv: {} },
        columns: { email: { pii: true } },
      });
      const report = await feedProfileReport(store, feed, [base + 'manifest.json'], 2);
      expect(report.preview).toEqual({
        columns: ['id', 'note', 'email'],
        rows: [
          ['1', 'a; b', REDACTED],
          // NULL stays NULL: redaction hides values, not their absence.
          ['2', 'say "hi"\r\nthen go', null],
        ],
        redacted: ['email'],
      });
      // A manifest written before profiles: no profile, no history point, still a preview.
      expect(report.latest).toBeNull();
      expect(report.history).toEqual([]);
    } finally {
      p.cleanup();
    }
  });
});
