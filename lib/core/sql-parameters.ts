/**
 * Feed SQL names its parameters `$name`. They are bound by the engine (DuckDB named parameters;
 * Athena execution parameters), never spliced in. This finds the names a query uses, skipping
 * string literals, quoted identifiers and comments, so `dropkit check` can report unknown ones.
 */
export function referencedParameters(sql: string): string[] {
  const found = new Set<string>();
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === "'" || ch === '"') {
      i = skipQuoted(sql, i, ch);
    } else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (ch === '$' && /[A-Za-z_]/.test(next ?? '')) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i));
      if (m) found.add(m[1]);
      i += m ? m[0].length : 1;
    } else {
      i++;
    }
  }
  return [...found];
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2; // doubled quote inside the literal
      else return i + 1;
    } else i++;
  }
  return i;
}
