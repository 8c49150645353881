export { toNumber } from '../sql-text';

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
