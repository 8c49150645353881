/** SQL text helpers shared by DuckDB and Athena (Trino): both quote identifiers with `"`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Converts what an engine returns for a count (bigint, number, numeric string) to a number. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Resolves column names against the staged schema; returns the names that do not exist. */
export function missingColumns(wanted: readonly string[], available: readonly { name: string }[]): string[] {
  const have = new Set(available.map((c) => c.name));
  return wanted.filter((c) => !have.has(c));
}

export function unknownColumnError(missing: string[], available: readonly { name: string }[]): string {
  return (
    `column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not in the staged result ` +
    `(columns: ${available.map((c) => c.name).join(', ')}); fix the check or the query`
  );
}
