import type { QueryParameter } from '../ports/query-engine';

/**
 * Feed SQL names its parameters `$name`. They are bound by the engine (DuckDB prepared-statement
 * parameters; Athena execution parameters), never spliced in. Athena takes only positional `?`
 * parameters, in order, and only inside a WHERE clause, so `$name` is compiled to `?` with an
 * ordered list, and `dropkit check` reports a parameter Athena cannot take.
 *
 * The scanner skips string literals, quoted identifiers, comments and dollar-quoted strings
 * (`$$…$$`, `$tag$…$tag$`), so text that only looks like a parameter is left alone.
 */

/** One `$name`, `$1` or `?` found outside literals and comments. */
export interface ParameterUse {
  readonly kind: 'named' | 'numbered' | 'positional';
  /** The name (`window_start`), the number (`1`), or `?`. */
  readonly name: string;
  /** Offset of the token in the SQL text. */
  readonly offset: number;
  readonly length: number;
  /** True when the token stands inside a WHERE clause (of the statement or of a subquery). */
  readonly inWhere: boolean;
}

/** Clause keywords: each starts a new clause at its parenthesis depth. */
const CLAUSES = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP',
  'HAVING',
  'ORDER',
  'LIMIT',
  'OFFSET',
  'FETCH',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'JOIN',
  'ON',
  'USING',
  'WINDOW',
  'QUALIFY',
  'WITH',
  'VALUES',
  'SET',
  'RETURNING',
]);

/** Every parameter-like token of `sql`, in order. */
export function scanParameters(sql: string): ParameterUse[] {
  const uses: ParameterUse[] = [];
  // One entry per open parenthesis level: the clause that level is in (null: not yet known).
  const clauses: (string | null)[] = [null];
  const inWhere = () => clauses.includes('WHERE');
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === "'" || ch === '"' || ch === '`') {
      i = skipQuoted(sql, i, ch);
    } else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (ch === '$') {
      const dollarTag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 200));
      const named = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i, i + 200));
      const numbered = /^\$(\d+)/.exec(sql.slice(i, i + 50));
      if (dollarTag) {
        // A dollar-quoted string: skip to its closing tag.
        const end = sql.indexOf(dollarTag[0], i + dollarTag[0].length);
        i = end === -1 ? sql.length : end + dollarTag[0].length;
      } else if (named) {
        uses.push({ kind: 'named', name: named[1], offset: i, length: named[0].length, inWhere: inWhere() });
        i += named[0].length;
      } else if (numbered) {
        uses.push({ kind: 'numbered', name: numbered[1], offset: i, length: numbered[0].length, inWhere: inWhere() });
        i += numbered[0].length;
      } else i++;
    } else if (ch === '?') {
      uses.push({ kind: 'positional', name: '?', offset: i, length: 1, inWhere: inWhere() });
      i++;
    } else if (ch === '(') {
      clauses.push(null);
      i++;
    } else if (ch === ')') {
      if (clauses.length > 1) clauses.pop();
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i, i + 64))![0];
      const upper = word.toUpperCase();
      if (CLAUSES.has(upper)) clauses[clauses.length - 1] = upper;
      i += word.length;
    } else {
      i++;
    }
  }
  return uses;
}

/** The `$name` parameters a query uses, each once, in order of first use. */
export function referencedParameters(sql: string): string[] {
  return [
    ...new Set(
      scanParameters(sql)
        .filter((u) => u.kind === 'named')
        .map((u) => u.name),
    ),
  ];
}

/**
 * Compiles `$name` to positional `?` with the parameters in the order the SQL uses them (a name
 * used twice is passed twice). Throws on a name not in `parameters`.
 */
export function toPositional(sql: string, parameters: readonly QueryParameter[]): { sql: string; parameters: QueryParameter[] } {
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const ordered: QueryParameter[] = [];
  let out = '';
  let from = 0;
  for (const use of scanParameters(sql)) {
    if (use.kind !== 'named') continue;
    const p = byName.get(use.name);
    if (!p) {
      const known = parameters.map((q) => `$${q.name}`).join(', ');
      throw new UnknownParameterError(`the feed query uses $${use.name}, which is not a parameter of this run (known: ${known})`);
    }
    out += sql.slice(from, use.offset) + '?';
    from = use.offset + use.length;
    ordered.push(p);
  }
  return { sql: out + sql.slice(from), parameters: ordered };
}

export class UnknownParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownParameterError';
  }
}

/**
 * A parameter as a typed SQL literal, escaped: what Athena's ExecutionParameters take (each value
 * is read as a literal). A value holding `'` or `;` stays one string literal.
 */
export function sqlLiteral(p: QueryParameter): string {
  switch (p.type) {
    case 'VARCHAR':
      return `'${String(p.value).replace(/'/g, "''")}'`;
    case 'BIGINT': {
      const n = Number(p.value);
      if (!Number.isSafeInteger(n)) throw new RangeError(`parameter ${p.name}: ${String(p.value)} is not a safe integer`);
      return String(n);
    }
    case 'DOUBLE': {
      const n = Number(p.value);
      if (!Number.isFinite(n)) throw new RangeError(`parameter ${p.name}: ${String(p.value)} is not a finite number`);
      return `DOUBLE '${n}'`;
    }
    case 'BOOLEAN':
      return p.value === true || p.value === 'true' ? 'true' : 'false';
    case 'TIMESTAMP': {
      const t = new Date(String(p.value));
      if (Number.isNaN(t.getTime())) throw new RangeError(`parameter ${p.name}: ${String(p.value)} is not a timestamp`);
      // Athena's TIMESTAMP literal: no zone, no T; the value is UTC.
      return `TIMESTAMP '${t.toISOString().replace('T', ' ').replace('Z', '')}'`;
    }
  }
}

/**
 * Why a query cannot be run as one confined SELECT (a check's own SQL, wrapped by dropkit), or
 * undefined when it can: it must start with SELECT or WITH, stay one statement (no `;` but at the
 * end) and never close a parenthesis it did not open, which would break out of the wrapper.
 * Literals, quoted names and comments are skipped, so text inside them does not count.
 */
export function singleSelectProblem(sql: string): string | undefined {
  const body = sql.replace(/[\s;]+$/, '');
  let depth = 0;
  let i = 0;
  let firstWord: string | undefined;
  while (i < body.length) {
    const ch = body[i];
    const next = body[i + 1];
    if (ch === "'" || ch === '"' || ch === '`') i = skipQuoted(body, i, ch);
    else if (ch === '-' && next === '-') {
      const end = body.indexOf('\n', i);
      i = end === -1 ? body.length : end + 1;
    } else if (ch === '/' && next === '*') {
      const end = body.indexOf('*/', i + 2);
      i = end === -1 ? body.length : end + 2;
    } else if (ch === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(body.slice(i, i + 200))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(body.slice(i, i + 200))![0];
      const end = body.indexOf(tag, i + tag.length);
      i = end === -1 ? body.length : end + tag.length;
    } else if (ch === '(') {
      depth++;
      i++;
    } else if (ch === ')') {
      if (--depth < 0) return 'it closes a parenthesis it did not open';
      i++;
    } else if (ch === ';') {
      return 'it holds more than one statement (a ";" before the end)';
    } else if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i, i + 64))![0];
      firstWord ??= word.toUpperCase();
      i += word.length;
    } else i++;
  }
  if (depth !== 0) return 'it leaves a parenthesis open';
  if (firstWord !== 'SELECT' && firstWord !== 'WITH') return `it must be a SELECT (or WITH … SELECT), not ${firstWord ?? 'empty'}`;
  return undefined;
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote)
        i += 2; // doubled quote inside the literal
      else return i + 1;
    } else i++;
  }
  return i;
}
