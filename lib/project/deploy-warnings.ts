import { athenaDialect } from '../adapters/athena/athena-dialect';
import { undeployableDestinations } from '../core/destinations/deployable';
import type { FeedDefinition } from '../core/feed/feed-definition';
import type { AwsSources } from '../core/feed/feed-schema';
import { scanParameters } from '../core/sql-parameters';

/** Something that works locally but would fail once deployed: which feed, what, and the fix. */
export interface DeployWarning {
  readonly feed: string;
  readonly file: string;
  readonly message: string;
  readonly fix: string;
}

/** The part of node-sql-parser's Parser the warnings use. */
export interface TableLister {
  tableList(sql: string, options: { database: string }): string[];
  astify(sql: string, options: { database: string }): unknown;
  /** Both at once: one parse (astify and tableList each parse the whole statement again). */
  parse(sql: string, options: { database: string }): { tableList: string[]; ast: unknown };
}

/** Which tables a statement reads, as `tablesRead` answers: `dropkit check` passes answers it remembers. */
export type TablesReader = (sql: string, defaultDatabase: string) => string[];

/**
 * node-sql-parser's Trino grammar, when installed (an optional peer: 90 MB is too much to force on
 * every user of `dropkit check`). Undefined when it is not.
 */
export function trinoParser(): TableLister | undefined {
  try {
    const { Parser } = require('node-sql-parser/build/trino') as { Parser: new () => TableLister };
    return new Parser();
  } catch {
    return undefined;
  }
}

/** The SQL with each `$name` parameter replaced by a literal of the same length, so a grammar without parameters parses it. */
function withoutParameters(sql: string): string {
  let out = sql;
  for (const p of [...scanParameters(sql)].reverse()) out = out.slice(0, p.offset) + 'NULL' + out.slice(p.offset + p.length);
  // The grammar lacks IS NOT DISTINCT FROM (the semantic layer's joins use it); which tables are read does not depend on it.
  return out.replace(/\bIS\s+NOT\s+DISTINCT\s+FROM\b/gi, '=');
}

/** Names of the common table expressions of a statement (they are not tables to grant). */
function cteNames(ast: unknown): Set<string> {
  const names = new Set<string>();
  for (const statement of ([] as unknown[]).concat(ast)) {
    const withs = (statement as { with?: { name?: { value?: string } | string }[] } | null)?.with ?? [];
    for (const w of withs) {
      const name = typeof w.name === 'string' ? w.name : w.name?.value;
      if (name) names.add(name.toLowerCase());
    }
  }
  return names;
}

/** `database.table` of every table a statement reads (FROM and JOIN), unqualified names in `defaultDatabase`. */
export function tablesRead(sql: string, parser: TableLister, defaultDatabase: string): string[] {
  const parsed = parser.parse(withoutParameters(sql), { database: 'trino' });
  const ctes = cteNames(parsed.ast);
  const tables = new Set<string>();
  for (const entry of parsed.tableList) {
    const [, db, table] = entry.split('::');
    if (db === 'null' && ctes.has(table.toLowerCase())) continue;
    tables.add(`${db === 'null' ? defaultDatabase : db}.${table}`.toLowerCase());
  }
  return [...tables].sort();
}

/** Whether `database.table` is among the declared Glue tables. */
function declared(qualified: string, aws: AwsSources | undefined): boolean {
  const [db, table] = qualified.split('.');
  return (aws?.glueTables ?? []).some((g) => g.database === db && (!g.tables || g.tables.includes(table)));
}

/**
 * What `dropkit check` warns a deployable feed about: tables its Athena SQL reads that the
 * project's `aws:` section does not declare (the deployed pipeline is granted only those), and
 * declared types Athena's CTAS cannot stage. `parser` undefined skips the tables (and says so).
 */
export function deployWarnings(feeds: readonly FeedDefinition[], aws: AwsSources | undefined, parser: TableLister | TablesReader | undefined): DeployWarning[] {
  const warnings: DeployWarning[] = [];
  const read: TablesReader | undefined = typeof parser === 'function' ? parser : parser && ((sql, db) => tablesRead(sql, parser, db));
  const defaultDatabase = aws?.database ?? 'default';
  for (const feed of feeds) {
    const at = { feed: feed.spec.name, file: feed.file };
    if (read) {
      let tables: string[] = [];
      try {
        tables = read(feed.sql.athena, defaultDatabase);
      } catch (error) {
        warnings.push({
          ...at,
          message: `cannot parse its Athena SQL (${feed.sqlFiles.athena}) with the Trino grammar to see which tables it reads: ${(error as Error).message.split('\n')[0]}`,
          fix: 'make sure every table it reads is in aws.glueTables of dropkit.yaml',
        });
      }
      for (const table of tables.filter((t) => !declared(t, aws)))
        warnings.push({
          ...at,
          message: `its Athena SQL (${feed.sqlFiles.athena}) reads ${table}, which the aws: section of dropkit.yaml does not declare: the deployed pipeline would be refused it (AccessDenied)`,
          fix: `add { database: ${table.split('.')[0]}, tables: [${table.split('.')[1]}] } to aws.glueTables (and its data's location to aws.s3Locations)`,
        });
    }
    // What cdk synth would refuse: said here first, where a local run still works.
    for (const p of undeployableDestinations([feed])) warnings.push({ ...at, message: `${p.path}: ${p.message}`, fix: p.fix ?? '' });
    for (const check of feed.spec.checks) {
      if (check.type !== 'schema') continue;
      for (const column of (check as { columns: { name: string; type: string }[] }).columns) {
        const fix = athenaDialect.stagingFix?.(column.type);
        if (fix)
          warnings.push({
            ...at,
            message: `the schema check declares ${column.name} ${column.type}, a type Athena cannot stage (its CTAS writes a Hive table, which has no such column type)`,
            fix,
          });
      }
    }
  }
  return warnings;
}
