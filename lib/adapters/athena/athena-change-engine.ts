import { randomBytes } from 'node:crypto';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { compileDiffSql, type ChangeEngine, type ChangeFile, type ChangeSet, type DiffRequest } from '../../core/destinations/change-engine';
import { QueryFailedError } from '../../core/errors';
import type { Manifest } from '../../core/manifest';
import { athenaRowsScratch } from '../../core/layout';
import type { RowReader } from '../../core/ports/destination';
import type { ObjectStore } from '../../core/ports/object-store';
import { dropTableSql, hiveIdent, quoteIdent, sqlString } from './athena-sql';
import { sha256Hex } from '../../core/hash';
import { s3UriOf } from './athena-engine';
import { emptyParquet } from './empty-parquet';

export interface AthenaChangeEngineOptions {
  readonly workGroup: string;
  /** Where its temporary tables go (the deployment's staging database). */
  readonly database: string;
  readonly store: ObjectStore;
  readonly bucket: string;
  /** The store's key prefix in the bucket, if any. */
  readonly prefix?: string;
  readonly client?: AthenaClient;
  /** Where the row reader keeps its symlink lists and query results (never a drop's own folder). Default: the layout's `athenaRowsScratch`. */
  readonly scratchPrefix?: string;
  readonly pollIntervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A manifest column type as Hive DDL names it (Athena's CREATE EXTERNAL TABLE goes to its Hive parser). */
export function hiveType(type: string): string {
  const t = type.trim().toUpperCase();
  const simple: Record<string, string> = {
    BIGINT: 'bigint',
    INTEGER: 'int',
    INT: 'int',
    SMALLINT: 'smallint',
    TINYINT: 'tinyint',
    DOUBLE: 'double',
    REAL: 'float',
    FLOAT: 'float',
    BOOLEAN: 'boolean',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamp',
    VARCHAR: 'string',
    VARBINARY: 'binary',
    BLOB: 'binary',
  };
  if (simple[t]) return simple[t];
  const decimal = /^DECIMAL\s*\((\d+)\s*,\s*(\d+)\)$/.exec(t);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  if (/^VARCHAR\s*\(\d+\)$/.test(t)) return 'string';
  throw new Error(`column type ${type} has no Hive spelling the Athena diff knows; a diff sync on AWS takes scalar columns (numbers, text, dates, timestamps)`);
}

/** A Parquet table over the objects a symlink file at `location` lists (Hive DDL, backticks). */
export function symlinkTableSql(database: string, table: string, columns: readonly Column[], location: string): string {
  return (
    `CREATE EXTERNAL TABLE ${hiveIdent(database)}.${hiveIdent(table)} (${columns.map((c) => `${hiveIdent(c.name)} ${hiveType(c.type)}`).join(', ')}) ` +
    `ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' ` +
    `STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat' ` +
    `OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' ` +
    `LOCATION ${sqlString(location)}`
  );
}

/** A value of Athena's result text as JSON, typed as the DuckDB row reader types it. */
export function jsonValue(text: string | undefined, type: string): unknown {
  if (text === undefined) return null;
  const t = type.trim().toUpperCase();
  if (['INTEGER', 'INT', 'SMALLINT', 'TINYINT', 'DOUBLE', 'REAL', 'FLOAT'].includes(t)) return Number(text);
  if (t === 'BIGINT') return Math.abs(Number(text)) <= Number.MAX_SAFE_INTEGER ? Number(text) : text;
  if (t === 'BOOLEAN') return text === 'true';
  if (t.startsWith('TIMESTAMP')) {
    // Athena prints `2024-01-15 06:00:00.000` (UTC: dropkit writes UTC); DuckDB's reader gives six fraction digits.
    const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?/.exec(text);
    return m ? `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0').slice(0, 6)}Z` : text;
  }
  return text;
}

/** The statements of one diff, compiled (exported for the grammar tests). */
export interface AthenaDiffStatements {
  /** CREATE EXTERNAL TABLE over a symlink manifest listing the drop's Parquet keys (Hive DDL, backticks). */
  readonly createBase: string | null;
  readonly createCur: string;
  readonly duplicateKeys: string;
  /** CTAS of each change set into one file (bucket_count = 1), Trino. */
  readonly changes: Readonly<Record<'inserts' | 'updates' | 'deletes', string>>;
  readonly drops: readonly string[];
}

const OPS = ['inserts', 'updates', 'deletes'] as const;
/** Beside a change set: the columns (and types) of each of its files. */
export const CHANGE_COLUMNS_FILE = 'columns.json';

interface Column {
  readonly name: string;
  readonly type: string;
}

/**
 * Compiles a diff to Athena: a drop folder holds CSV and the manifest beside its Parquet, so each
 * drop's Parquet is read through a symlink table (SymlinkTextInputFormat: a text file listing the
 * Parquet objects) rather than the folder; each change set is a CTAS bucketed into one file
 * (UNLOAD writes as many files as it has writers). The diff queries are the shared compileDiffSql.
 */
export function athenaDiffStatements(
  request: DiffRequest,
  types: readonly string[],
  o: { database: string; tag: string; location: (name: string) => string },
): AthenaDiffStatements {
  const table = (name: string) => `dropkit_diff_${o.tag}_${name}`;
  const qualified = (name: string) => `${quoteIdent(o.database)}.${quoteIdent(table(name))}`;
  const external = (name: string) =>
    symlinkTableSql(
      o.database,
      table(name),
      request.columns.map((c, i) => ({ name: c, type: types[i] })),
      o.location(`tables/${name}/`),
    );
  const base = request.base && request.base.length ? qualified('base') : `(SELECT * FROM ${qualified('cur')} WHERE FALSE)`;
  const sql = compileDiffSql(request.columns, request.primaryKey, quoteIdent, { base, cur: qualified('cur') });
  // Bucketed by the key into one bucket: one file, whatever the number of writers.
  const ctas = (op: (typeof OPS)[number], select: string) =>
    `CREATE TABLE ${qualified(op)} WITH (format = 'PARQUET', write_compression = 'ZSTD', external_location = ${sqlString(o.location(`${op}/`))}, ` +
    `bucketed_by = ARRAY[${request.primaryKey.map((k) => sqlString(k)).join(', ')}], bucket_count = 1) AS ${select.replace(/ ORDER BY [^)]*$/, '')}`;
  return {
    createBase: request.base && request.base.length ? external('base') : null,
    createCur: external('cur'),
    duplicateKeys: sql.duplicateKeys,
    changes: { inserts: ctas('inserts', sql.inserts), updates: ctas('updates', sql.updates), deletes: ctas('deletes', sql.deletes) },
    drops: ['base', 'cur', ...OPS].map((n) => dropTableSql(o.database, table(n))),
  };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Diff syncs on AWS: the same change computation as DuckDbDestinationEngine, run by Athena over
 * the two drops' Parquet in S3 (never in the Lambda's memory). The column types come from the
 * manifest beside the current drop's Parquet. Rows of a change set are ordered when read (the
 * row reader sorts by the key), not in the file.
 */
export class AthenaChangeEngine implements ChangeEngine, RowReader {
  private readonly client: AthenaClient;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: AthenaChangeEngineOptions) {
    this.client = options.client ?? new AthenaClient({});
    this.sleep = options.sleep ?? defaultSleep;
  }

  async diff(request: DiffRequest): Promise<ChangeSet> {
    const { store } = this.options;
    this.nonce = randomBytes(8).toString('hex');
    const manifestKey = request.current[0]?.replace(/[^/]*$/, 'manifest.json');
    const got = manifestKey ? await store.get(manifestKey) : undefined;
    if (!got) throw new Error(`the Athena diff reads column types from the drop's manifest, and ${manifestKey ?? 'none'} is not in the store`);
    const manifest = JSON.parse(got.body.toString('utf8')) as Manifest;
    const types = request.columns.map((c) => {
      const col = manifest.schema.columns.find((x) => x.name === c);
      if (!col) throw new Error(`column ${c} is not in the schema of ${manifestKey}`);
      return col.type;
    });
    const work = `${request.outPrefix}_athena/`;
    this.results = `${work}results/`;
    const location = (name: string) => s3UriOf(this.options, work + name);
    const tag = sha256Hex(request.outPrefix).slice(0, 16);
    const s = athenaDiffStatements(request, types, { database: this.options.database, tag, location });
    const symlink = (keys: readonly string[]) => keys.map((k) => s3UriOf(this.options, k)).join('\n') + '\n';
    // A retry starts clean: its earlier tables and files go first (CTAS refuses a location that is not empty).
    for (const drop of s.drops) await this.run(drop);
    await store.deletePrefix(work);
    try {
      await store.put(`${work}tables/cur/symlink.txt`, symlink(request.current));
      await this.run(s.createCur);
      if (s.createBase && request.base) {
        await store.put(`${work}tables/base/symlink.txt`, symlink(request.base));
        await this.run(s.createBase);
      }
      const duplicates = Number((await this.firstValue(await this.run(s.duplicateKeys))) ?? 0);
      if (duplicates > 0)
        throw new Error(
          `primary key (${request.primaryKey.join(', ')}) is not unique in the drop: ${duplicates} key(s) occur more than once; fix the feed's query or its destination's primaryKey`,
        );
      // What each change file holds, for the row reader (a change set has no manifest beside it).
      const all = request.columns.map((name, i) => ({ name, type: types[i] }));
      const keyCols = all.filter((c) => request.primaryKey.includes(c.name));
      await store.put(`${request.outPrefix}${CHANGE_COLUMNS_FILE}`, JSON.stringify({ inserts: all, updates: all, deletes: keyCols }) + '\n', {
        contentType: 'application/json',
      });
      const out: Partial<Record<(typeof OPS)[number], ChangeFile>> = {};
      for (const op of OPS) {
        const id = await this.run(s.changes[op]);
        out[op] = await this.oneFile(`${work}${op}/`, `${request.outPrefix}${op}.parquet`, await this.updateCount(id), op === 'deletes' ? keyCols : all);
      }
      return out as ChangeSet;
    } finally {
      for (const drop of s.drops) await this.run(drop).catch(() => undefined);
      await store.deletePrefix(work).catch(() => undefined);
    }
  }

  /**
   * Rows of a drop's (or a change set's) Parquet for API destinations: a symlink table over the
   * keys, one ordered SELECT, its result read page by page (never the whole result in memory), each
   * value typed as the DuckDB reader types it (numbers native, 64-bit integers past 2^53 and
   * decimals as strings, timestamps ISO-8601 UTC with microseconds).
   */
  async *rows(keys: readonly string[], options: { readonly batchRows: number; readonly orderBy: readonly string[] }): AsyncIterable<Record<string, unknown>[]> {
    if (keys.length === 0) return;
    this.nonce = randomBytes(8).toString('hex');
    const columns = await this.columnsOf(keys[0]);
    const work = `${this.options.scratchPrefix ?? athenaRowsScratch('')}${this.nonce}/`;
    this.results = `${work}results/`;
    const name = `dropkit_diff_rows_${this.nonce}`;
    const table = `${quoteIdent(this.options.database)}.${quoteIdent(name)}`;
    await this.options.store.put(`${work}table/symlink.txt`, keys.map((k) => s3UriOf(this.options, k)).join('\n') + '\n');
    try {
      await this.run(symlinkTableSql(this.options.database, name, columns, s3UriOf(this.options, `${work}table/`)));
      const order = options.orderBy.length ? ` ORDER BY ${options.orderBy.map(quoteIdent).join(', ')}` : '';
      const id = await this.run(`SELECT ${columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${table}${order}`);
      let batch: Record<string, unknown>[] = [];
      let token: string | undefined;
      let header = true;
      do {
        const page = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }));
        for (const row of page.ResultSet?.Rows ?? []) {
          // The first row of the first page is the header.
          if (header) {
            header = false;
            continue;
          }
          batch.push(Object.fromEntries(columns.map((c, i) => [c.name, jsonValue(row.Data?.[i]?.VarCharValue, c.type)])));
          if (batch.length >= options.batchRows) {
            yield batch;
            batch = [];
          }
        }
        token = page.NextToken;
      } while (token);
      if (batch.length) yield batch;
    } finally {
      await this.run(dropTableSql(this.options.database, name)).catch(() => undefined);
      await this.options.store.deletePrefix(work).catch(() => undefined);
    }
  }

  /** The columns of a Parquet key: from the drop's manifest beside it, or the change set's columns.json. */
  private async columnsOf(key: string): Promise<Column[]> {
    const folder = key.replace(/[^/]*$/, '');
    const manifest = await this.options.store.get(`${folder}manifest.json`);
    if (manifest) return (JSON.parse(manifest.body.toString('utf8')) as Manifest).schema.columns.map((c) => ({ name: c.name, type: c.type }));
    const listed = await this.options.store.get(`${folder}${CHANGE_COLUMNS_FILE}`);
    const file = /(inserts|updates|deletes)\.parquet$/.exec(key)?.[1];
    const columns = listed && file ? (JSON.parse(listed.body.toString('utf8')) as Record<string, Column[]>)[file] : undefined;
    if (!columns) throw new Error(`no manifest.json or ${CHANGE_COLUMNS_FILE} beside ${key}: the Athena row reader cannot tell its columns`);
    return columns;
  }

  /**
   * The single file a bucketed CTAS wrote, moved to its change-set key. A CTAS of no rows may write
   * no file, or only empty objects: that is an empty change set, written as a Parquet file with
   * the columns and no rows (as DuckDB writes one), so every destination gets the same three files.
   */
  private async oneFile(prefix: string, key: string, rows: number, columns: readonly Column[]): Promise<ChangeFile> {
    const listed: { key: string; size: number }[] = [];
    for await (const o of this.options.store.list(prefix)) listed.push(o);
    const files = listed.filter((f) => f.size > 0);
    if (files.length === 0) {
      if (rows !== 0)
        throw new QueryFailedError(
          `the Athena diff's CTAS reported ${rows} rows, and wrote no file under ${prefix}${listed.length ? ` (only empty objects: ${listed.map((f) => f.key).join(', ')})` : ''}`,
        );
      const body = emptyParquet(columns);
      await this.options.store.put(key, body, { contentType: 'application/vnd.apache.parquet' });
      return { key, rows: 0, bytes: body.length };
    }
    if (files.length !== 1)
      throw new QueryFailedError(
        `the Athena diff expected one file under ${prefix} (bucket_count = 1), found ${files.length}: ${files.map((f) => f.key).join(', ')}`,
      );
    await this.options.store.move(files[0].key, key);
    return { key, rows, bytes: files[0].size };
  }

  /** Per diff call: a retry of the SDK call finds its query again, a new diff (which drops and recreates the tables) runs anew. */
  private nonce = randomBytes(8).toString('hex');
  private results = '';

  private async run(sql: string): Promise<string> {
    const started = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        ClientRequestToken: sha256Hex(`${this.nonce}\n${sql}`),
        WorkGroup: this.options.workGroup,
        // Beside the change set: the only place of ours the push function may write.
        ResultConfiguration: { OutputLocation: s3UriOf(this.options, this.results) },
      }),
    );
    const id = started.QueryExecutionId!;
    for (;;) {
      const { QueryExecution: e } = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = e?.Status?.State;
      if (state === 'SUCCEEDED') return id;
      if (state === 'FAILED' || state === 'CANCELLED')
        throw new QueryFailedError(
          `Athena diff query ${id} ${state.toLowerCase()}: ${e?.Status?.StateChangeReason ?? 'no reason given'}\n${sql.slice(0, 300)}`,
        );
      await this.sleep(this.options.pollIntervalMs ?? 1000);
    }
  }

  private async firstValue(id: string): Promise<string | undefined> {
    const out = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 2 }));
    return out.ResultSet?.Rows?.[1]?.Data?.[0]?.VarCharValue;
  }

  private async updateCount(id: string): Promise<number> {
    const out = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1 }));
    return typeof out.UpdateCount === 'number' ? out.UpdateCount : 0;
  }
}
