import { randomBytes } from 'node:crypto';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { compileDiffSql, type ChangeEngine, type ChangeFile, type ChangeSet, type DiffRequest } from '../../core/destinations/change-engine';
import { QueryFailedError } from '../../core/errors';
import type { Manifest } from '../../core/manifest';
import type { ObjectStore } from '../../ports/object-store';
import { dropTableSql, hiveIdent, quoteIdent, sha256Hex, sqlString } from './athena-sql';
import { s3UriOf } from './athena-engine';

export interface AthenaChangeEngineOptions {
  readonly workGroup: string;
  /** Where its temporary tables go (the deployment's staging database). */
  readonly database: string;
  readonly store: ObjectStore;
  readonly bucket: string;
  /** The store's key prefix in the bucket, if any. */
  readonly prefix?: string;
  readonly client?: AthenaClient;
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
  const columns = request.columns.map((c, i) => `${hiveIdent(c)} ${hiveType(types[i])}`).join(', ');
  const external = (name: string) =>
    `CREATE EXTERNAL TABLE ${hiveIdent(o.database)}.${hiveIdent(table(name))} (${columns}) ` +
    `ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' ` +
    `STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat' ` +
    `OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' ` +
    `LOCATION ${sqlString(o.location(`tables/${name}/`))}`;
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
export class AthenaChangeEngine implements ChangeEngine {
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
      const out: Partial<Record<(typeof OPS)[number], ChangeFile>> = {};
      for (const op of OPS) {
        const id = await this.run(s.changes[op]);
        out[op] = await this.oneFile(`${work}${op}/`, `${request.outPrefix}${op}.parquet`, await this.updateCount(id));
      }
      return out as ChangeSet;
    } finally {
      for (const drop of s.drops) await this.run(drop).catch(() => undefined);
      await store.deletePrefix(work).catch(() => undefined);
    }
  }

  /** The single file a bucketed CTAS wrote, moved to its change-set key. */
  private async oneFile(prefix: string, key: string, rows: number): Promise<ChangeFile> {
    const files: { key: string; size: number }[] = [];
    for await (const o of this.options.store.list(prefix)) files.push(o);
    if (files.length !== 1)
      throw new QueryFailedError(`the Athena diff expected one file under ${prefix} (bucket_count = 1), found ${files.length}: ${files.map((f) => f.key).join(', ')}`);
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
        throw new QueryFailedError(`Athena diff query ${id} ${state.toLowerCase()}: ${e?.Status?.StateChangeReason ?? 'no reason given'}\n${sql.slice(0, 300)}`);
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
