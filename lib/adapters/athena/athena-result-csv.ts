import { StringDecoder } from 'node:string_decoder';

/**
 * A parser for the CSV object Athena writes for a query's result: a header row, every value
 * quoted with `"` (an embedded `"` doubled, newlines kept inside the quotes), NULL as an empty
 * unquoted field, an empty string as `""`, rows ended by `\n`. It is fed chunks of bytes as they
 * arrive and keeps its state across chunk boundaries (a quote, a doubled quote, a multi-byte
 * character or a row may be cut anywhere). Small and correct rather than fast.
 */
export class AthenaCsvParser {
  private readonly decoder = new StringDecoder('utf8');
  private row: (string | null)[] = [];
  private field = '';
  /** The current field started with a quote (so it is a value, possibly empty, never NULL). */
  private quoted = false;
  private inQuotes = false;
  /** Just saw a `"` inside quotes: the next char decides between an escaped quote and the closing one. */
  private quoteSeen = false;
  private afterCarriageReturn = false;
  private header: string[] | undefined;

  /** The column names from the header row, once it has been read. */
  get columns(): readonly string[] | undefined {
    return this.header;
  }

  /** Parses a chunk; returns the data rows it completed (the header row is kept apart). */
  push(chunk: Buffer | string): (string | null)[][] {
    return this.parse(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
  }

  /** Ends the input; returns the last row if it had no final newline. Throws on an open quote. */
  end(): (string | null)[][] {
    const rows = this.parse(this.decoder.end());
    if (this.inQuotes && !this.quoteSeen) throw new Error('Athena result CSV ends inside a quoted value');
    if (this.quoteSeen) this.closeQuote();
    if (this.field !== '' || this.quoted || this.row.length > 0) this.endRow(rows);
    return rows;
  }

  private parse(text: string): (string | null)[][] {
    const rows: (string | null)[][] = [];
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (this.inQuotes) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (ch === '"') {
            this.field += '"';
            continue;
          }
          this.closeQuote();
          // fall through: ch is read outside the quotes
        } else if (ch === '"') {
          this.quoteSeen = true;
          continue;
        } else {
          this.field += ch;
          continue;
        }
      }
      if (this.afterCarriageReturn) {
        this.afterCarriageReturn = false;
        if (ch === '\n') continue;
      }
      if (ch === ',') this.endField();
      else if (ch === '\n' || ch === '\r') {
        this.afterCarriageReturn = ch === '\r';
        this.endRow(rows);
      } else if (ch === '"' && this.field === '' && !this.quoted) {
        this.inQuotes = true;
        this.quoted = true;
      } else {
        this.field += ch;
      }
    }
    return rows;
  }

  private closeQuote(): void {
    this.inQuotes = false;
    this.quoteSeen = false;
  }

  private endField(): void {
    this.row.push(this.quoted || this.field !== '' ? this.field : null);
    this.field = '';
    this.quoted = false;
  }

  private endRow(rows: (string | null)[][]): void {
    this.endField();
    const row = this.row;
    this.row = [];
    if (!this.header) {
      this.header = row.map((name) => name ?? '');
      return;
    }
    if (row.length !== this.header.length) {
      throw new Error(`Athena result CSV row ${rows.length + 1} has ${row.length} fields, the header ${this.header.length}`);
    }
    rows.push(row);
  }
}

/** Parses a whole Athena result CSV stream into batches of rows (header dropped). */
export async function* parseAthenaCsv(source: AsyncIterable<Buffer | string>, batchRows = 2048): AsyncIterable<(string | null)[][]> {
  const parser = new AthenaCsvParser();
  let batch: (string | null)[][] = [];
  for await (const chunk of source) {
    for (const row of parser.push(chunk)) {
      batch.push(row);
      if (batch.length >= batchRows) {
        yield batch;
        batch = [];
      }
    }
  }
  batch.push(...parser.end());
  if (batch.length) yield batch;
}
