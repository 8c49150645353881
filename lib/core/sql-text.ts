/**
 * SQL text helpers, and the one lexer behind every security decision dropkit takes on SQL text.
 * Engine-specific rules come from the engine's dialect (`SqlDialect.lexing`); nothing here names an engine.
 */

/** A standard SQL quoted identifier (`"` doubled inside): the quoting every dialect so far uses. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A standard SQL string literal (`'` doubled inside; a backslash is an ordinary character). */
export function stringLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** What an engine returns for a count (bigint, number, numeric string) as a number. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Where SQL lexers differ. A dialect names the rules its engine's lexer follows. */
export interface SqlLexDialect {
  /** `E'…'` strings, where a backslash escapes the next character. */
  readonly escapeStrings: boolean;
  /** Block comments nest: `/* /* *\/ *\/` is one comment. */
  readonly nestedComments: boolean;
  /** `$$…$$` and `$tag$…$tag$` strings. */
  readonly dollarQuotes: boolean;
}
/** PostgreSQL's lexer, which DuckDB follows: E-strings, nested comments, dollar-quoted strings. */
export const POSTGRES_LEXING: SqlLexDialect = { escapeStrings: true, nestedComments: true, dollarQuotes: true };
/** The SQL standard's lexer, which Trino follows: none of those (`$` starts no string; a comment ends at the first `*\/`). */
export const STANDARD_LEXING: SqlLexDialect = { escapeStrings: false, nestedComments: false, dollarQuotes: false };
/**
 * Every lexing some engine follows. SQL written once for every engine (a check's own SQL) must be
 * safe as each of them reads it. A new engine whose lexer differs adds its rules here.
 */
export const EVERY_LEXING: readonly SqlLexDialect[] = [POSTGRES_LEXING, STANDARD_LEXING];

/** A token of SQL text that can matter to a security decision; literals, quoted names and comments are consumed, not returned. */
export interface SqlToken {
  readonly kind: 'word' | 'named' | 'numbered' | 'positional' | 'open' | 'close' | 'semicolon';
  /** The word, parameter name or number; the punctuation itself. */
  readonly text: string;
  readonly offset: number;
  readonly length: number;
}

/**
 * The one lexer behind every decision dropkit takes on SQL text (where parameters are, whether a
 * check is one SELECT that stays inside its wrapper, whether an engine is sent one read-only
 * query). With POSTGRES_LEXING it follows DuckDB's lexer, and is tested against DuckDB's own
 * statement splitter: `'…'` with `''` doubled; `E'…'`, where a backslash escapes the next
 * character (`E'\''` is one quote); `"…"` names; `$tag$…$tag$` strings; `--` comments to the end
 * of the line and `/* … *\/` comments, which nest. STANDARD_LEXING drops the E-strings, the
 * nesting and the dollar quotes. `$name`, `$1` and `?` are dropkit's parameters in every dialect.
 * A literal or comment left open runs to the end (the engine refuses such text anyway).
 */
export function* sqlTokens(sql: string, dialect: SqlLexDialect = POSTGRES_LEXING): Generator<SqlToken> {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === "'") i = endOfQuoted(sql, i, "'", false);
    else if (ch === '"') i = endOfQuoted(sql, i, '"', false);
    else if (dialect.escapeStrings && (ch === 'E' || ch === 'e') && next === "'" && !/[A-Za-z0-9_$]/.test(sql[i - 1] ?? ''))
      i = endOfQuoted(sql, i + 1, "'", true);
    else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (ch === '/' && next === '*') i = endOfBlockComment(sql, i, dialect.nestedComments);
    else if (ch === '$') {
      const head = sql.slice(i, i + 200);
      const dollarTag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(head);
      const named = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(head);
      const numbered = /^\$(\d+)/.exec(head);
      if (dollarTag && dialect.dollarQuotes) {
        const end = sql.indexOf(dollarTag[0], i + dollarTag[0].length);
        i = end === -1 ? n : end + dollarTag[0].length;
      } else if (named) {
        yield { kind: 'named', text: named[1], offset: i, length: named[0].length };
        i += named[0].length;
      } else if (numbered) {
        yield { kind: 'numbered', text: numbered[1], offset: i, length: numbered[0].length };
        i += numbered[0].length;
      } else i++;
    } else if (ch === '?') {
      yield { kind: 'positional', text: '?', offset: i, length: 1 };
      i++;
    } else if (ch === '(' || ch === ')' || ch === ';') {
      yield { kind: ch === '(' ? 'open' : ch === ')' ? 'close' : 'semicolon', text: ch, offset: i, length: 1 };
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i, i + 256))![0];
      yield { kind: 'word', text: word, offset: i, length: word.length };
      i += word.length;
    } else i++;
  }
}

/** Past the closing quote of a quoted text starting at `start` (doubled quotes inside; backslash escapes in E-strings). */
function endOfQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    if (backslashEscapes && sql[i] === '\\') i += 2;
    else if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/** Past the end of a block comment starting at `start`; comments nest, as in DuckDB. */
function endOfBlockComment(sql: string, start: number, nested: boolean): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*' && (nested || depth === 0)) {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      i += 2;
      if (--depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** What the lexer sees of a statement's outline: its first word, how it could escape a wrapper, its parentheses. */
export interface StatementShape {
  /** The first word outside literals and comments, upper-cased (parentheses before it are skipped). */
  readonly firstWord: string | undefined;
  /**
   * The first thing that would end a wrapping statement early, in text order: a `;` before the end
   * (trailing ones and blanks do not count), or a `)` with no `(` before it.
   */
  readonly breakout: 'semicolon' | 'unopened-close' | undefined;
  /** True when a `;` stands before the end: more than one statement. */
  readonly severalStatements: boolean;
  /** A `(` never closed. */
  readonly leavesOpen: boolean;
}

/** The outline of `sql` as an engine lexing by `dialect` reads it. */
export function statementShape(sql: string, dialect: SqlLexDialect): StatementShape {
  let depth = 0;
  let firstWord: string | undefined;
  let breakout: StatementShape['breakout'];
  let severalStatements = false;
  for (const t of sqlTokens(sql.replace(/[\s;]+$/, ''), dialect)) {
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') {
      if (--depth < 0) breakout ??= 'unopened-close';
    } else if (t.kind === 'semicolon') {
      severalStatements = true;
      breakout ??= 'semicolon';
    } else if (t.kind === 'word') firstWord ??= t.text.toUpperCase();
  }
  return { firstWord, breakout, severalStatements, leavesOpen: depth > 0 };
}
