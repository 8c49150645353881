import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDbEngine } from '../adapters/duckdb/duckdb-engine';
import { LocalStore } from '../adapters/local/local-store';
import type { ConfigProblem } from '../core/errors';
import { deliveryPartners, type FeedDefinition } from '../core/feed/feed-definition';
import { bindParameters } from '../core/steps/run-plan';
import type { Project } from '../project/load-project';
import type { ColumnSchema, QueryParameter } from '../core/ports/query-engine';
import { scanParameters } from '../core/sql-parameters';

/**
 * Where an engine error points in the SQL it was given: DuckDB ends its message with the line
 * (`LINE 2: FROM evnts`, possibly cut short with `...`) and a caret under the column.
 */
export function locateSqlError(message: string, sql: string): { line: number; column: number } | undefined {
  const m = /\nLINE (\d+): (.*)\n( *)\^/.exec(message);
  if (!m) return undefined;
  const line = Number(m[1]);
  const shown = m[2];
  const caret = m[3].length - `LINE ${m[1]}: `.length;
  const text = sql.split(/\r?\n/)[line - 1] ?? '';
  // A long line is shown cut, with "..." in front: find the shown part in the real line.
  const cut = shown.startsWith('...') ? 3 : 0;
  const start = cut ? text.indexOf(shown.slice(3).replace(/\.\.\.$/, '')) : 0;
  return { line, column: Math.max(0, start) + Math.max(0, caret - cut) + 1 };
}

/** The engine's message without its own LINE/caret block: the file:line:column says where. */
function engineMessage(message: string): string {
  return message
    .replace(/^Error: /, '')
    .replace(/\n+LINE \d+:[\s\S]*$/, '')
    .replace(/\n+/g, ' ')
    .trim();
}

/** One `$name` rewritten as `CAST($name AS TYPE)`: where it was and where it went. */
interface Rewrite {
  readonly from: number;
  readonly length: number;
  readonly to: number;
  readonly typedLength: number;
}

/**
 * The SQL with each parameter cast to its bound type, so the engine judges every use with the
 * real type (a TIMESTAMP compared with an INTEGER column fails here, not in the run), and a map
 * from offsets in it back to offsets in the file.
 */
export function typedSql(sql: string, parameters: readonly QueryParameter[]): { sql: string; original(offset: number): number } {
  const rewrites: Rewrite[] = [];
  let out = '';
  let last = 0;
  for (const use of scanParameters(sql)) {
    const p = use.kind === 'named' ? parameters.find((x) => x.name === use.name) : undefined;
    if (!p) continue;
    out += sql.slice(last, use.offset);
    const typed = `CAST(${sql.slice(use.offset, use.offset + use.length)} AS ${p.type})`;
    rewrites.push({ from: use.offset, length: use.length, to: out.length, typedLength: typed.length });
    out += typed;
    last = use.offset + use.length;
  }
  out += sql.slice(last);
  const original = (offset: number): number => {
    const r = [...rewrites].reverse().find((x) => x.to <= offset);
    if (!r) return offset;
    if (offset < r.to + r.typedLength) return r.from;
    return r.from + r.length + (offset - r.to - r.typedLength);
  };
  return { sql: out, original };
}

function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split('\n');
  return lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
}

function lineColumnOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

export interface CompiledFeed {
  readonly feed: string;
  readonly columns: readonly ColumnSchema[];
}

/**
 * Compiles every feed's DuckDB SQL against the project's declared sources, its parameters bound
 * with their real types, without running it (no row is read), in a scratch engine that cannot
 * touch the project's store. Each failure is a problem naming file:line:column and the engine's
 * message.
 */
export async function compileFeedSql(project: Project, now: Date): Promise<{ problems: ConfigProblem[]; feeds: CompiledFeed[] }> {
  // A project that declares no local sources reads tables only Athena knows: nothing to compile against.
  if (Object.keys(project.sources).length === 0) return { problems: [], feeds: [] };
  const scratch = mkdtempSync(join(tmpdir(), 'dropkit-check-'));
  const problems: ConfigProblem[] = [];
  const feeds: CompiledFeed[] = [];
  let engine: DuckDbEngine | undefined;
  try {
    engine = await DuckDbEngine.open({ store: new LocalStore(scratch), sources: project.sources, workDir: scratch, prefix: project.spec.prefix });
    for (const feed of project.feeds) {
      const compiled = await compileOne(engine, feed, now);
      if ('problem' in compiled) problems.push(compiled.problem);
      else feeds.push(compiled);
    }
  } finally {
    await engine?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { problems, feeds };
}

async function compileOne(engine: DuckDbEngine, feed: FeedDefinition, now: Date): Promise<CompiledFeed | { problem: ConfigProblem }> {
  const sql = feed.sql.duckdb;
  const parameters = bindParameters(feed, deliveryPartners(feed)[0] ?? null, now, { start: now, end: now });
  // sqlFiles are relative to the feed file.
  const file = join(dirname(feed.file), feed.sqlFiles.duckdb);
  const typed = typedSql(sql, parameters);
  let columns: ColumnSchema[];
  try {
    columns = await engine.describeQuery(typed.sql, parameters);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const inTyped = locateSqlError(message, typed.sql);
    const at = inTyped && lineColumnOf(sql, typed.original(offsetOf(typed.sql, inTyped.line, inTyped.column)));
    return {
      problem: {
        file: at ? `${file}:${at.line}:${at.column}` : file,
        path: '',
        message: `does not compile on DuckDB: ${engineMessage(message)}`,
        fix: 'fix the SQL; check compiles it against the sources in dropkit.yaml with the parameters bound, reading no data',
      },
    };
  }
  const missing = (feed.spec.orderBy ?? []).filter((c) => !columns.some((x) => x.name === c));
  if (missing.length > 0) {
    return {
      problem: {
        file: feed.file,
        path: 'orderBy',
        message: `names column${missing.length === 1 ? '' : 's'} the query does not return`,
        value: missing,
        fix: `use columns of ${file}: ${columns.map((c) => c.name).join(', ')}`,
      },
    };
  }
  return { feed: feed.spec.name, columns };
}
