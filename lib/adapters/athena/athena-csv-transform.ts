import { isUtf8 } from 'node:buffer';
import type { CsvDialect } from '../../core/feed/feed-schema';
import { DropkitError } from '../../core/errors';
import { writeCsvParts, type PartSink, type WrittenPart } from '../../core/csv/csv-writer';
import { athenaTypeNeedsCanonical, canonicalFromAthena } from './athena-canonical';

export { canonicalFromAthena } from './athena-canonical';

/**
 * Athena's result CSV (one object per SELECT) → a feed's CSV dialect, streaming.
 *
 * The format read, and nothing else: a header line; every value quoted with `"` (a quote inside
 * doubled), NULL an empty unquoted field, the empty string `""`; each record, the last included,
 * ends with `\n`; CR and LF inside quotes are data. The bytes are decoded as strict UTF-8 (an
 * invalid sequence is an error, never U+FFFD; a leading U+FEFF is kept) and parsed in one pass that
 * carries its state across chunks, so a quote, a doubled quote, a CRLF or a multi-byte character
 * split between two chunks reads the same as whole.
 *
 * Memory is bounded: the input is pulled a chunk at a time, only when the writer has taken the
 * previous batch, and the writer waits for its sink ('drain') before asking for more.
 */

/** One row of an Athena result: text, or null for NULL. */
export type AthenaRow = (string | null)[];

export interface AthenaCsv {
  /** The header's names, in order. */
  readonly columns: readonly string[];
  /** The data rows, in batches of about `batchRows` (a chunk's rows are never held back). */
  readonly batches: AsyncIterable<AthenaRow[]>;
  /** Ends the input without reading the batches (reading them to the end, or leaving early, ends it too). */
  close(): Promise<void>;
}

export interface ReadAthenaCsvOptions {
  /** Rows per batch handed on (default 512: small batches stay in the young generation and the caches). */
  readonly batchRows?: number;
}

export interface AthenaCsvTransformOptions extends ReadAthenaCsvOptions {
  /** The Athena result object's bytes, e.g. an S3 GetObject body or a file stream. */
  readonly input: AsyncIterable<Uint8Array>;
  readonly dialect: CsvDialect;
  /** Opens the destination of one part file (see writeCsvParts). */
  readonly openPart: (fileName: string) => PartSink;
  /** When given, the header must hold exactly these names, in this order. */
  readonly columns?: readonly string[];
  /**
   * Athena types of the columns (result metadata), when the SQL left values in Athena's own text:
   * values of the types canonicalFromAthena converts are converted. Omit when the SQL already
   * renders canonical text (the usual case): values then pass through untouched.
   */
  readonly columnTypes?: readonly string[];
  readonly onProgress?: (rowsSoFar: number, bytesSoFar: number) => void;
}

export interface AthenaCsvTransformResult {
  readonly columns: readonly string[];
  readonly parts: WrittenPart[];
}

/** Transforms an Athena result CSV into part files of `dialect` (gzip and splits as it says). */
export async function transformAthenaCsv(options: AthenaCsvTransformOptions): Promise<AthenaCsvTransformResult> {
  const { input, dialect, openPart, columnTypes, onProgress } = options;
  const csv = await readAthenaCsv(input, options);
  const { columns } = csv;
  if (options.columns !== undefined && (options.columns.length !== columns.length || options.columns.some((c, i) => c !== columns[i]))) {
    await csv.close();
    throw new DropkitError(
      `the Athena result's columns (${columns.join(', ')}) differ from the expected ones (${options.columns.join(', ')}); ` +
        'the query must select exactly the feed columns, in order',
    );
  }
  if (columnTypes !== undefined && columnTypes.length !== columns.length) {
    await csv.close();
    throw new DropkitError(`got ${columnTypes.length} column types for ${columns.length} columns (${columns.join(', ')})`);
  }
  const batches = columnTypes === undefined ? csv.batches : canonical(csv.batches, columns, columnTypes);
  try {
    const parts = await writeCsvParts({ columns, batches, dialect, openPart, onProgress });
    return { columns, parts };
  } catch (err) {
    // The writer may fail before it reads a batch (a bad dialect): end the input all the same.
    await csv.close();
    throw err;
  }
}

/** Converts, in place, the values of the columns whose Athena type has another canonical text. */
async function* canonical(batches: AsyncIterable<AthenaRow[]>, columns: readonly string[], types: readonly string[]): AsyncGenerator<AthenaRow[]> {
  const convert = types.flatMap((type, i) => (athenaTypeNeedsCanonical(type) ? [[i, type] as const] : []));
  let rowNumber = 0;
  for await (const batch of batches) {
    for (const row of batch) {
      rowNumber++;
      for (const [i, type] of convert) {
        const v = row[i];
        if (v === null) continue;
        try {
          row[i] = canonicalFromAthena(type, v);
        } catch (err) {
          throw new DropkitError(`row ${rowNumber}, column ${columns[i]}: ${(err as Error).message}`);
        }
      }
    }
    yield batch;
  }
}

/**
 * Reads the header, then hands back the columns and the rest as batches. Ending the batches early
 * (`return()`, as `for await` does on an error) ends the input too.
 */
export async function readAthenaCsv(input: AsyncIterable<Uint8Array>, options: ReadAthenaCsvOptions = {}): Promise<AthenaCsv> {
  const batchRows = options.batchRows ?? 512;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new RangeError(`batchRows must be a positive integer, got ${batchRows}`);
  const chunks = input[Symbol.asyncIterator]();
  const decoder = new StrictUtf8Decoder();
  const parser = new AthenaCsvParser();
  let rows: AthenaRow[] = [];
  let ended = false;

  /** Parses the next chunk into `rows`; false at the end of the input. */
  const step = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      parser.parse(decode(decoder, undefined, parser), rows);
      parser.finish(rows);
      return false;
    }
    parser.parse(decode(decoder, next.value, parser), rows);
    return true;
  };

  try {
    while (parser.columns === undefined && (await step()));
  } catch (err) {
    await chunks.return?.();
    throw err;
  }
  if (parser.columns === undefined) throw new DropkitError('the Athena result CSV is empty: it has no header line');

  async function* batches(): AsyncGenerator<AthenaRow[]> {
    let done = false;
    try {
      for (;;) {
        while (rows.length < batchRows && (await step()));
        if (rows.length > 0) {
          const batch = rows;
          rows = [];
          yield batch;
        }
        if (ended) {
          done = true;
          return;
        }
      }
    } finally {
      if (!done) await chunks.return?.();
    }
  }
  const close = async (): Promise<void> => {
    ended = true;
    await chunks.return?.();
  };
  return { columns: parser.columns, batches: batches(), close };
}

function decode(decoder: StrictUtf8Decoder, bytes: Uint8Array | undefined, parser: AthenaCsvParser): string {
  const text = bytes === undefined ? decoder.end() : decoder.decode(bytes);
  if (typeof text === 'string') return text;
  // Parse the valid text before the bad byte, so the message can name the record it is in.
  parser.parse(text.before, []);
  throw new DropkitError(`the Athena result CSV is not valid UTF-8 at byte ${text.at} (${parser.where()})`);
}

/** Where decoding failed: the object's byte offset, and the text of the chunk up to there. */
interface InvalidUtf8 {
  readonly at: number;
  readonly before: string;
}

/**
 * Strict streaming UTF-8: each chunk is cut after its last complete character (the rest waits for
 * the next chunk), validated (no invalid, overlong or surrogate sequences) and decoded; a leading
 * U+FEFF is kept. Validation and decoding are native and vectorised, several times faster than a
 * fatal TextDecoder.
 */
class StrictUtf8Decoder {
  private tail: Buffer | undefined;
  /** Bytes of the object before the current chunk (the carried tail counted as not yet read). */
  private offset = 0;

  /** The text of the chunk's complete characters, or where the bytes stop being UTF-8. */
  decode(chunk: Uint8Array): string | InvalidUtf8 {
    let bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.tail !== undefined) {
      bytes = Buffer.concat([this.tail, bytes]);
      this.tail = undefined;
    }
    const end = completeEnd(bytes);
    if (end < bytes.length) {
      this.tail = Buffer.from(bytes.subarray(end)); // a copy: the caller may reuse the chunk
      bytes = bytes.subarray(0, end);
    }
    if (!isUtf8(bytes)) {
      const bad = firstInvalidUtf8(bytes);
      return { at: this.offset + bad, before: bytes.subarray(0, bad).toString('utf8') };
    }
    this.offset += bytes.length;
    return bytes.toString('utf8');
  }

  /** '' at the end of the input, or where it ends inside a character. */
  end(): string | InvalidUtf8 {
    return this.tail === undefined ? '' : { at: this.offset, before: '' };
  }
}

/** Length of `bytes` without a multi-byte character cut off at its end. */
function completeEnd(bytes: Buffer): number {
  const n = bytes.length;
  for (let k = n - 1; k >= 0 && k >= n - 4; k--) {
    const b = bytes[k];
    if (b < 0x80) return n; // ASCII: nothing is cut
    if (b >= 0xc0) {
      const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return k + size <= n ? n : k;
    }
    // 10xxxxxx: a continuation byte, look further back for its lead byte
  }
  return n; // no lead byte where one must be: invalid, and isUtf8 says so
}

/** Index of the first byte that does not start a valid UTF-8 sequence (the error path only). */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const size = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (size === 0 || i + size > b.length) return i;
    for (let k = 1; k < size; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    const next = b[i + 1];
    // Overlong forms, UTF-16 surrogates, and code points past U+10FFFF.
    if ((c === 0xe0 && next < 0xa0) || (c === 0xed && next > 0x9f) || (c === 0xf0 && next < 0x90) || (c === 0xf4 && next > 0x8f)) return i;
    i += size;
  }
  return b.length;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;

/** Where the parser is: between fields, inside a quoted value, or just after a quote inside one. */
const FIELD_START = 0;
const QUOTED = 1;
const QUOTE_SEEN = 2;

/**
 * The resumable parser. Its whole state between chunks is: where it is (above), the value read so
 * far and the fields of the record so far; no input is kept, so a value split over many chunks
 * costs no rescans.
 */
class AthenaCsvParser {
  /** The header's names, once its line is complete. */
  columns: string[] | undefined;
  private state = FIELD_START;
  private value = '';
  private row: AthenaRow = [];
  /** Complete records so far, the header included. */
  private records = 0;
  /** UTF-16 code units parsed so far, for error messages. */
  private offset = 0;

  /** Parses `text`, appending every record it completes to `out` (the header goes to `columns`). */
  parse(text: string, out: AthenaRow[]): void {
    const n = text.length;
    let { state, value, row } = this;
    let i = 0;
    try {
      while (i < n) {
        if (state === FIELD_START && text.charCodeAt(i) === QUOTE) {
          // The common case in one step: a quoted value without a doubled quote, then ',' or a line end.
          const close = text.indexOf('"', i + 1);
          const after = close === -1 ? -1 : text.charCodeAt(close + 1); // NaN past the end of this chunk
          if (after === COMMA) {
            row.push(text.slice(i + 1, close));
            i = close + 2;
            continue;
          }
          if (after === LF) {
            row.push(text.slice(i + 1, close));
            i = close + 2;
            this.record(row, out, this.offset + i);
            row = [];
            continue;
          }
          // Otherwise (a doubled quote, a value or record cut by the chunk's end, an error): step by step.
        }
        if (state === QUOTED) {
          const close = text.indexOf('"', i);
          if (close === -1) {
            value += text.slice(i);
            i = n;
            break;
          }
          value += text.slice(i, close);
          i = close + 1;
          state = QUOTE_SEEN;
          continue;
        }
        const c = text.charCodeAt(i++);
        if (state === QUOTE_SEEN) {
          if (c === QUOTE) {
            value += '"'; // a doubled quote inside the value
            state = QUOTED;
            continue;
          }
          row.push(value);
          value = '';
        } else if (c === QUOTE) {
          state = QUOTED;
          continue;
        } else {
          row.push(null); // nothing between two separators: NULL
        }
        state = FIELD_START;
        if (c === COMMA) continue;
        if (c === LF) {
          this.record(row, out, this.offset + i);
          row = [];
          continue;
        }
        throw new DropkitError(
          `the Athena result CSV has ${JSON.stringify(String.fromCharCode(c))} where a field must start with '"' or end with ',' or a line end ` +
            `(${this.where(this.offset + i - 1)}): it is not in Athena's result format`,
        );
      }
    } finally {
      this.offset += i;
      this.state = state;
      this.value = value;
      this.row = row;
    }
  }

  /** At the end of the input: the last record must be complete (a missing final `\n` is tolerated). */
  finish(out: AthenaRow[]): void {
    if (this.state === QUOTED) throw new DropkitError(`the Athena result CSV ends inside a quoted value (${this.where()}): the object is truncated`);
    if (this.state === QUOTE_SEEN) {
      this.row.push(this.value);
      this.value = '';
    } else if (this.row.length > 0) {
      this.row.push(null); // it ended after a ','
    } else {
      return;
    }
    this.state = FIELD_START;
    this.record(this.row, out, this.offset);
    this.row = [];
  }

  /** Record number and character offset, for messages. */
  where(offset = this.offset): string {
    return `record ${this.records + 1} counting the header, character ${offset}`;
  }

  private record(row: AthenaRow, out: AthenaRow[], offset: number): void {
    if (this.columns === undefined) {
      if (row.some((name) => name === null)) throw new DropkitError(`the Athena result CSV's header has an empty (unquoted) name (${this.where(offset)})`);
      this.columns = row as string[];
    } else if (row.length !== this.columns.length) {
      throw new DropkitError(
        `the Athena result CSV has ${row.length} values in ${this.where(offset)}, expected ${this.columns.length} (${this.columns.join(', ')})`,
      );
    } else {
      out.push(row);
    }
    this.records++;
  }
}
