/**
 * Athena's result CSV, written the way Athena writes it: a header line, every value quoted with
 * `"` (doubled inside), NULL as an empty unquoted field, records ending with `\n`.
 */
export function athenaCsv(columns: readonly string[], rows: readonly (readonly (string | null)[])[]): string {
  const field = (v: string | null): string => (v === null ? '' : `"${v.replaceAll('"', '""')}"`);
  let out = columns.map(field).join(',') + '\n';
  for (const row of rows) out += row.map(field).join(',') + '\n';
  return out;
}

/** `bytes` as an async iterable of chunks cut at the given offsets. */
export async function* chunked(bytes: Buffer, cuts: readonly number[]): AsyncGenerator<Buffer> {
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}
