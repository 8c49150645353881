import type { QueryParameter } from './ports/query-engine';
import { EVERY_LEXING, POSTGRES_LEXING, sqlTokens, SqlLexDialect, statementShape } from './sql-text';

/**
 * Feed SQL names its parameters `$name`. They are bound by the engine (DuckDB prepared-statement
 * parameters; Athena execution parameters), never spliced in. An engine whose dialect takes only
 * positional `?` parameters gets `$name` compiled to `?` with an ordered list (`toPositional`).
 *
 * The scanner is the one SQL lexer (`sqlTokens`): it skips string literals (E-strings with their
 * backslash escapes too), quoted identifiers, comments and dollar-quoted strings, so text that
 * only looks like a parameter is left alone.
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

/** Every parameter-like token of `sql`, in order, as an engine lexing by `lexing` reads it. */
export function scanParameters(sql: string, lexing: SqlLexDialect = POSTGRES_LEXING): ParameterUse[] {
  const uses: ParameterUse[] = [];
  // One entry per open parenthesis level: the clause that level is in (null: not yet known).
  const clauses: (string | null)[] = [null];
  const inWhere = () => clauses.includes('WHERE');
  for (const t of sqlTokens(sql, lexing)) {
    if (t.kind === 'named' || t.kind === 'numbered' || t.kind === 'positional') {
      uses.push({ kind: t.kind, name: t.text, offset: t.offset, length: t.length, inWhere: inWhere() });
    } else if (t.kind === 'open') clauses.push(null);
    else if (t.kind === 'close') {
      if (clauses.length > 1) clauses.pop();
    } else if (t.kind === 'word') {
      const upper = t.text.toUpperCase();
      if (CLAUSES.has(upper)) clauses[clauses.length - 1] = upper;
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
 * used twice is passed twice), reading literals and comments as the engine's lexer does. Throws on
 * a name not in `parameters`.
 */
export function toPositional(
  sql: string,
  parameters: readonly QueryParameter[],
  lexing: SqlLexDialect = POSTGRES_LEXING,
): { sql: string; parameters: QueryParameter[] } {
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const ordered: QueryParameter[] = [];
  let out = '';
  let from = 0;
  for (const use of scanParameters(sql, lexing)) {
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
 * Why a query cannot be run as one confined SELECT (a check's own SQL, wrapped by dropkit), or
 * undefined when it can: it must start with SELECT or WITH, stay one statement (no `;` but at the
 * end) and never close a parenthesis it did not open, which would break out of the wrapper.
 * Literals, quoted names and comments are skipped, so text inside them does not count.
 */
export function singleSelectProblem(sql: string): string | undefined {
  // The same text must be safe as each engine reads it (they differ on E'…' strings, nested comments, dollar quotes).
  for (const lexing of EVERY_LEXING) {
    const shape = statementShape(sql, lexing);
    if (shape.breakout === 'unopened-close') return 'it closes a parenthesis it did not open';
    if (shape.breakout === 'semicolon') return 'it holds more than one statement (a ";" before the end)';
    if (shape.leavesOpen) return 'it leaves a parenthesis open';
    if (shape.firstWord !== 'SELECT' && shape.firstWord !== 'WITH') return `it must be a SELECT (or WITH … SELECT), not ${shape.firstWord ?? 'empty'}`;
  }
  return undefined;
}
