import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { Manifest } from '../manifest';

// A held or delivered drop's first rows with `pii: true` columns redacted: the report's sample and the sign-off notice's preview.
export interface Preview {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
  /** Columns shown as redacted (`pii: true` in the feed). */
  readonly redacted: readonly string[];
}

/** Shown in place of a PII value. */
export const REDACTED = '▒▒▒ pii';

/** The preview with the values of `pii` columns replaced (the report's sample, the sign-off notice's). */
export function redact(head: { columns: string[]; rows: (string | null)[][] }, pii: readonly string[]): Preview {
  const hide = head.columns.map((c) => pii.includes(c));
  return {
    columns: head.columns,
    rows: head.rows.map((r) => r.map((v, i) => (hide[i] && v !== null ? REDACTED : v))),
    redacted: head.columns.filter((_, i) => hide[i]),
  };
}

/**
 * The header and first `limit` records of a CSV in the drop's dialect (quoted fields may hold the
 * delimiter, quotes doubled, and line breaks), reading no further than needed.
 */
export async function readCsvHead(
  input: Readable,
  dialect: NonNullable<Manifest['csv']>,
  limit: number,
): Promise<{ columns: string[]; rows: (string | null)[][] }> {
  const records: { value: string; quoted: boolean }[][] = [];
  const want = limit + (dialect.header ? 1 : 0);
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let pendingQuote = false;
  let record: { value: string; quoted: boolean }[] = [];
  let first = true;
  const endField = () => {
    record.push({ value: field, quoted });
    field = '';
    quoted = false;
  };
  // A decoder keeps a character split across chunks whole.
  const decoder = new StringDecoder('utf8');
  outer: for await (const chunk of input) {
    let text = decoder.write(chunk as Buffer);
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text) first = false;
    for (const ch of text) {
      if (inQuotes) {
        if (pendingQuote) {
          pendingQuote = false;
          if (ch === dialect.quote) {
            field += ch;
            continue;
          }
          inQuotes = false;
        } else if (ch === dialect.quote) {
          pendingQuote = true;
          continue;
        } else {
          field += ch;
          continue;
        }
      }
      if (ch === dialect.quote && field === '') {
        inQuotes = true;
        quoted = true;
      } else if (ch === dialect.delimiter) endField();
      else if (ch === '\n') {
        endField();
        records.push(record);
        record = [];
        if (records.length >= want) break outer;
      } else if (ch !== '\r') field += ch;
    }
  }
  input.destroy();
  if (records.length < want && (field !== '' || record.length)) {
    endField();
    records.push(record);
  }
  const value = (f: { value: string; quoted: boolean }) => (!f.quoted && f.value === dialect.nullText ? null : f.value);
  const columns = dialect.header ? records.shift()!.map((f) => f.value) : (records[0]?.map((_, i) => `column ${i + 1}`) ?? []);
  return { columns, rows: records.slice(0, limit).map((r) => r.map(value)) };
}
