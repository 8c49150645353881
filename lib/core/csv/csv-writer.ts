import { createHash, type Hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import type { CsvDialect } from '../feed/feed-schema';
import { DropkitError } from '../errors';
import { csvRecordEncoder, isWellFormed, loneSurrogateError, type CsvRow } from './csv-encoder';
import { dataFileName } from '../layout';

/**
 * Streaming CSV part writer: batches of already-rendered text values in, one or more part files
 * out (split by rows and/or uncompressed bytes), each with its rows, stored bytes and SHA-256.
 *
 * Each slice of a batch is rendered to one string by the dialect's encoder (csv-encoder.ts) and
 * to one Buffer; this module owns per-part header and BOM, splitting at record boundaries, gzip,
 * hashing and backpressure.
 */

export interface PartSink {
  readonly stream: NodeJS.WritableStream | Writable;
  readonly finished: Promise<void>;
}

export interface WrittenPart {
  readonly fileName: string;
  /** Data rows (the header is not counted). */
  readonly rows: number;
  /** Bytes as stored, i.e. after gzip when the dialect asks for it. */
  readonly bytes: number;
  /** Hex SHA-256 of the bytes as stored. */
  readonly sha256: string;
}

export interface CsvWriteOptions {
  readonly columns: readonly string[];
  /** Batches of rows; every value is already text (canonical rendering done by the SQL engine) or null. */
  readonly batches: AsyncIterable<readonly CsvRow[]>;
  readonly dialect: CsvDialect;
  /** Opens the destination of one part file; the writer ends `stream` and awaits `finished`. */
  readonly openPart: (fileName: string) => PartSink;
  /**
   * Called after each batch and once at the end. `bytesSoFar` counts bytes as stored (after gzip);
   * the last call reports the totals, equal to the sum of the parts' `bytes`.
   */
  readonly onProgress?: (rowsSoFar: number, bytesSoFar: number) => void;
}

/** `part-00000.csv`, or `part-00000.csv.gz` when the dialect gzips. */
export function csvFileName(index: number, dialect: CsvDialect): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`part index must be a non-negative integer, got ${index}`);
  return dataFileName(index, dialect.gzip ? 'csv.gz' : 'csv');
}

/** Rows rendered to one string: bounds memory even when a caller sends huge batches. */
const SLICE_ROWS = 4096;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const LF = 0x0a;

export async function writeCsvParts(options: CsvWriteOptions): Promise<WrittenPart[]> {
  const { columns, batches, dialect, openPart, onProgress } = options;
  if (columns.length === 0) throw new DropkitError('a CSV needs at least one column');
  const encoder = csvRecordEncoder(dialect, columns);
  const headerText = dialect.header ? encoder.encode([columns], 0, 1) : '';
  if (!isWellFormed(headerText)) throw loneSurrogateError([columns], columns, 0);
  const header = Buffer.concat([dialect.encoding === 'utf-8-bom' ? UTF8_BOM : Buffer.alloc(0), Buffer.from(headerText, 'utf8')]);
  const scanQuote = Buffer.from(dialect.quote, 'utf8');
  const maxRows = dialect.maxRowsPerFile ?? Infinity;
  const maxBytes = dialect.maxBytesPerFile ?? Infinity;

  const written: WrittenPart[] = [];
  let part: PartOutput | undefined;
  let rowsSoFar = 0;
  let storedBefore = 0; // bytes of the parts already finished

  const openNext = (): PartOutput => {
    const fileName = csvFileName(written.length, dialect);
    part = new PartOutput(openPart(fileName), fileName, dialect.gzip);
    return part;
  };
  const finishCurrent = async (): Promise<void> => {
    if (part === undefined) return;
    const done = await part.finish();
    part = undefined;
    written.push(done);
    storedBefore += done.bytes;
  };
  const current = async (): Promise<PartOutput> => {
    if (part !== undefined) return part;
    const opened = openNext();
    await opened.write(header);
    return opened;
  };

  /** Writes `count` encoded records, moving to a new part wherever a limit says so. */
  const writeRecords = async (buf: Buffer, count: number): Promise<void> => {
    const scanner = new RecordScanner(buf, scanQuote);
    let pos = 0;
    let left = count;
    while (left > 0) {
      const out = await current();
      const rowRoom = maxRows - out.rows;
      const byteRoom = maxBytes - out.rawBytes;
      let end: number;
      let n: number;
      if (left <= rowRoom && buf.length - pos <= byteRoom) {
        end = buf.length; // the common case: everything fits, no scanning
        n = left;
      } else {
        end = pos;
        n = 0;
        while (n < rowRoom && n < left) {
          const next = scanner.recordEnd(end);
          if (next - pos > byteRoom) {
            // A record too big for any part goes in alone, into a part with no data rows yet.
            if (n === 0 && out.rows === 0) {
              end = next;
              n = 1;
            }
            break;
          }
          end = next;
          n++;
        }
      }
      if (n > 0) {
        await out.write(buf.subarray(pos, end));
        out.rows += n;
        pos = end;
        left -= n;
      }
      if (left > 0) await finishCurrent();
    }
  };

  try {
    for await (const batch of batches) {
      for (let start = 0; start < batch.length; start += SLICE_ROWS) {
        const end = Math.min(batch.length, start + SLICE_ROWS);
        const text = encoder.encode(batch, start, end);
        if (!isWellFormed(text)) throw loneSurrogateError(batch.slice(start, end), columns, rowsSoFar + 1);
        // ASCII text (the usual case) is its own UTF-8: a plain copy, cheaper than encoding.
        const bytes = Buffer.byteLength(text, 'utf8') === text.length ? Buffer.from(text, 'latin1') : Buffer.from(text, 'utf8');
        await writeRecords(bytes, end - start);
        rowsSoFar += end - start;
      }
      onProgress?.(rowsSoFar, storedBefore + (part?.storedBytes ?? 0));
    }
    // Zero rows still deliver one part: the header alone (or an empty file).
    if (written.length === 0) await current();
    await finishCurrent();
  } catch (err) {
    part?.destroy(err);
    throw err;
  }
  onProgress?.(rowsSoFar, storedBefore);
  return written;
}

/**
 * Finds record ends in encoded output without parsing fields: outside quotes an LF only ever
 * ends a record (values with CR/LF are quoted), and quotes come in pairs (a quote inside a value is
 * doubled, which toggles twice). Positions of the next LF and quote are cached so a record with
 * many quoted fields is not rescanned to its end for each one.
 */
class RecordScanner {
  private nextLf = -2;
  private nextQuote = -2;

  constructor(
    private readonly buf: Buffer,
    private readonly quote: Buffer,
  ) {}

  /** Index just past the terminator of the record that starts at `pos`. */
  recordEnd(pos: number): number {
    const { buf, quote } = this;
    let i = pos;
    for (;;) {
      if (this.nextLf < i) this.nextLf = buf.indexOf(LF, i);
      if (this.nextQuote < i && this.nextQuote !== -1) this.nextQuote = buf.indexOf(quote, i);
      const lf = this.nextLf;
      const q = this.nextQuote;
      if (lf === -1) throw new Error('internal: CSV record without a terminator');
      if (q === -1 || lf < q) return lf + 1;
      const close = buf.indexOf(quote, q + quote.length);
      if (close === -1) throw new Error('internal: unbalanced quote in CSV output');
      i = close + quote.length;
    }
  }
}

/** One open part: optional gzip, hashing and byte counting of what is stored, backpressure. */
class PartOutput {
  rows = 0;
  /** Uncompressed bytes written (header and BOM included): what maxBytesPerFile limits. */
  rawBytes = 0;
  storedBytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private readonly out: NodeJS.WritableStream | Writable;
  private readonly gzip: Gzip | undefined;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private rejectFailed!: (err: Error) => void;
  /** Settles the one pending drain wait, if any, so an error mid-wait rejects instead of hanging. */
  private settleWait: ((err?: Error) => void) | undefined;

  constructor(
    private readonly sink: PartSink,
    private readonly fileName: string,
    gzip: boolean,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined); // observed by finish(); never an unhandled rejection
    this.out = sink.stream;
    this.out.on('error', this.fail);
    sink.finished.catch(this.fail);
    if (gzip) {
      const gz = createGzip(); // default level: the usual speed/size balance
      gz.on('error', this.fail);
      gz.on('data', (chunk: Buffer) => this.count(chunk));
      gz.pipe(this.out); // pipe pauses gzip while the sink is full and ends the sink after gzip
      this.gzip = gz;
    }
  }

  /** Resolves at once unless the stream asked us to wait ('drain'). */
  write(chunk: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (chunk.length === 0) return Promise.resolve();
    this.rawBytes += chunk.length;
    const head = this.gzip ?? this.out;
    if (!this.gzip) this.count(chunk);
    if (head.write(chunk)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => settle();
      const settle = (err?: Error): void => {
        head.removeListener('drain', onDrain);
        this.settleWait = undefined;
        if (err) reject(err);
        else resolve();
      };
      head.on('drain', onDrain);
      this.settleWait = settle;
    });
  }

  async finish(): Promise<WrittenPart> {
    if (this.failure) throw this.failure;
    if (this.gzip) this.gzip.end();
    else this.out.end();
    await Promise.race([this.sink.finished, this.failed]);
    if (this.failure) throw this.failure;
    return { fileName: this.fileName, rows: this.rows, bytes: this.storedBytes, sha256: this.hash.digest('hex') };
  }

  destroy(err: unknown): void {
    this.fail(err);
    this.gzip?.destroy();
    const out = this.out as Partial<Writable>;
    // Destroying with the error lets a sink abort (e.g. an S3 multipart upload) rather than commit.
    if (typeof out.destroy === 'function' && !out.destroyed) out.destroy(this.failure);
  }

  private count(chunk: Buffer): void {
    this.hash.update(chunk);
    this.storedBytes += chunk.length;
  }

  private readonly fail = (err: unknown): void => {
    if (this.failure) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.rejectFailed(this.failure);
    this.settleWait?.(this.failure);
  };
}
