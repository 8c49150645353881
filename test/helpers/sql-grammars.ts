import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

/** What dt-sql-parser's parsers offer that the tests use. */
interface GrammarParser {
  validate(sql: string): { message: string }[];
}
interface DtSqlParser {
  HiveSQL: new () => GrammarParser;
  TrinoSQL: new () => GrammarParser;
}

let loaded: DtSqlParser | undefined;

/**
 * dt-sql-parser's ANTLR grammars (Hive, Trino). The package ships ES modules with directory
 * imports that neither Node's require nor Jest resolve, so it is bundled once into CommonJS with
 * esbuild (already a dev dependency) and required from there.
 */
function dtSqlParser(): DtSqlParser {
  if (loaded) return loaded;
  // Bundled once per installed version, not once per test file: later files and runs require the same bundle.
  const { version } = require('dt-sql-parser/package.json') as { version: string };
  const dir = join(__dirname, '../../node_modules/.cache/dropkit-tests');
  const out = join(dir, `dt-sql-parser-${version}.cjs`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const building = `${out}.${process.pid}.tmp`;
    buildSync({ entryPoints: [require.resolve('dt-sql-parser')], bundle: true, platform: 'node', format: 'cjs', outfile: building, logLevel: 'error' });
    renameSync(building, out);
  }
  loaded = require(out) as DtSqlParser;
  return loaded;
}

/** Syntax errors of `sql` under Hive's grammar (what Athena's DDL parser takes). */
export function hiveErrors(sql: string): string[] {
  return new (dtSqlParser().HiveSQL)().validate(sql).map((e) => e.message);
}

/** Syntax errors of `sql` under Trino's grammar (what Athena engine 3 runs for DML and CTAS). */
export function trinoErrors(sql: string): string[] {
  return new (dtSqlParser().TrinoSQL)().validate(sql).map((e) => e.message);
}

/**
 * Athena's UNLOAD is its own wrapper around a Trino query (`UNLOAD (query) TO 's3://…' WITH (…)`),
 * in no Trino grammar: the envelope is matched against Athena's documented shape and the query
 * inside parsed with Trino's grammar.
 */
export function unloadErrors(sql: string): string[] {
  const m = /^UNLOAD \(([\s\S]+)\) TO '(?:[^']|'')*' WITH \((\w+ = (?:'[^']*'|ARRAY\['\w+'\])(?:, \w+ = (?:'[^']*'|ARRAY\['\w+'\]))*)\)$/.exec(sql);
  if (!m) return [`not Athena's UNLOAD (query) TO 'location' WITH (property = value, …) shape`];
  const props = [...m[2].matchAll(/(\w+) = /g)].map((p) => p[1]);
  const unknown = props.filter((p) => !['format', 'compression', 'partitioned_by', 'field_delimiter', 'compression_level'].includes(p));
  return [...unknown.map((p) => `unknown UNLOAD property ${p}`), ...trinoErrors(m[1])];
}

/** Which grammar Athena parses a statement with: Hive for DDL, Trino for queries, CTAS and UNLOAD. */
export function athenaGrammarErrors(sql: string): { grammar: 'hive' | 'trino' | 'unload'; errors: string[] } {
  if (/^\s*UNLOAD\b/i.test(sql)) return { grammar: 'unload', errors: unloadErrors(sql) };
  const ddl = /^\s*(DROP|ALTER|MSCK|SHOW|DESCRIBE)\b/i.test(sql) || (/^\s*CREATE\b/i.test(sql) && !/\bAS\s+(SELECT|WITH|VALUES)\b/i.test(sql));
  return ddl ? { grammar: 'hive', errors: hiveErrors(sql) } : { grammar: 'trino', errors: trinoErrors(sql) };
}
