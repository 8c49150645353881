import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DuckDbEngineOptions } from '../adapters/duckdb/duckdb-engine';
import { LocalStore } from '../adapters/local/local-store';
import type { ConfigProblem } from '../core/errors';
import { deliveryPartners, type FeedDefinition } from '../core/feed/feed-definition';
import { bindParameters } from '../core/steps/run-plan';
import type { Project } from '../project/load-project';
import type { ColumnSchema, QueryParameter } from '../core/ports/query-engine';
import { scanParameters } from '../core/sql-parameters';
import { cacheKey, CheckCache, installedVersion, sourcesIdentity } from './check-cache';

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

/** The part of the engine that compiles a query: what check needs of DuckDB. */
export interface SqlDescriber {
  describeQuery(sql: string, parameters: readonly QueryParameter[]): Promise<ColumnSchema[]>;
  close(): Promise<void>;
}

export interface CompileOptions {
  /** Answers of earlier checks for unchanged inputs. Default: none (every feed is compiled). */
  readonly cache?: CheckCache;
  /** Opens the scratch engine. Default: DuckDB, loaded only now (a check whose every feed hits the cache never loads it). */
  readonly openEngine?: (options: DuckDbEngineOptions) => Promise<SqlDescriber>;
}

/** What compiling one feed's SQL gave: its columns, or the engine's error text. This is what is cached. */
type Described = { readonly columns: ColumnSchema[] } | { readonly error: string };

const openDuckDb = async (options: DuckDbEngineOptions): Promise<SqlDescriber> =>
  // Required here, not imported: loading DuckDB's native module is most of a cold check.
  (require('../adapters/duckdb/duckdb-engine') as typeof import('../adapters/duckdb/duckdb-engine')).DuckDbEngine.open(options);

/**
 * Compiles every feed's DuckDB SQL against the project's declared sources, its parameters bound
 * with their real types, without running it (no row is read), in a scratch engine that cannot
 * touch the project's store. Each failure is a problem naming file:line:column and the engine's
 * message. With a cache, a feed whose inputs are unchanged takes the earlier answer, and the
 * engine is opened only if some feed misses.
 */
export async function compileFeedSql(project: Project, now: Date, options: CompileOptions = {}): Promise<{ problems: ConfigProblem[]; feeds: CompiledFeed[] }> {
  // A project that declares no local sources reads tables only Athena knows: nothing to compile against.
  if (Object.keys(project.sources).length === 0) return { problems: [], feeds: [] };
  const cache = options.cache ?? CheckCache.disabled();
  const prepared = project.feeds.map((feed) => prepare(feed, now));
  // Everything a feed's columns depend on besides its own SQL and parameter types. A source that
  // names no file, or DuckDB not installed: nothing to key on, so nothing is taken from the cache.
  const sources = sourcesIdentity(project.sources);
  const duckdb = installedVersion('@duckdb/node-api');
  // The engine's budget (a bad value fails the open): a changed variable compiles again.
  const engineEnv = Object.entries(process.env)
    .filter(([name]) => name.startsWith('DROPKIT_DUCKDB_'))
    .sort();
  const keys = prepared.map((p) =>
    sources === undefined || duckdb === undefined
      ? undefined
      : cacheKey('duckdb-describe', {
          sql: p.typed.sql,
          parameters: p.parameters.map((x) => [x.name, x.type]),
          sources,
          duckdb,
          engineEnv,
          prefix: project.spec.prefix,
        }),
  );
  const described: (Described | undefined)[] = keys.map((key) => (key === undefined ? undefined : cache.get<Described>(key)));
  if (described.some((d) => d === undefined)) {
    const scratch = mkdtempSync(join(tmpdir(), 'dropkit-check-'));
    let engine: SqlDescriber | undefined;
    try {
      engine = await (options.openEngine ?? openDuckDb)({
        store: new LocalStore(scratch),
        sources: project.sources,
        workDir: scratch,
        prefix: project.spec.prefix,
        schemaOnly: true,
      });
      for (const [i, p] of prepared.entries()) {
        // Answered before this check, or for an earlier feed of it with the same SQL and sources.
        described[i] ??= keys[i] === undefined ? undefined : cache.get<Described>(keys[i]);
        if (described[i] !== undefined) continue;
        described[i] = await describe(engine, p);
        if (keys[i] !== undefined) cache.set(keys[i], described[i]);
      }
    } finally {
      await engine?.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const problems: ConfigProblem[] = [];
  const feeds: CompiledFeed[] = [];
  for (const [i, p] of prepared.entries()) {
    const compiled = judge(p, described[i]!);
    if ('problem' in compiled) problems.push(compiled.problem);
    else feeds.push(compiled);
  }
  return { problems, feeds };
}

interface PreparedFeed {
  readonly feed: FeedDefinition;
  /** The SQL file, relative to the project. */
  readonly file: string;
  readonly parameters: QueryParameter[];
  readonly typed: ReturnType<typeof typedSql>;
}

function prepare(feed: FeedDefinition, now: Date): PreparedFeed {
  const parameters = bindParameters(feed, deliveryPartners(feed)[0] ?? null, now, { start: now, end: now });
  // sqlFiles are relative to the feed file.
  const file = join(dirname(feed.file), feed.sqlFiles.duckdb);
  return { feed, file, parameters, typed: typedSql(feed.sql.duckdb, parameters) };
}

async function describe(engine: SqlDescriber, p: PreparedFeed): Promise<Described> {
  try {
    return { columns: await engine.describeQuery(p.typed.sql, p.parameters) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** The problem an answer shows, or the feed's columns: the same from a cached answer as from a fresh one. */
function judge({ feed, file, typed }: PreparedFeed, described: Described): CompiledFeed | { problem: ConfigProblem } {
  if ('error' in described) {
    const message = described.error;
    const sql = feed.sql.duckdb;
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
  const { columns } = described;
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
