import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  InvalidRequestException,
  MetadataException,
  QueryExecution,
  StartQueryExecutionCommand,
  StartQueryExecutionCommandInput,
  StopQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { scanParameters } from '../../lib/core/sql-parameters';
import { CONTRACT_SOURCE_SQL } from '../contract/query-engine.contract';

/**
 * A stand-in for Athena behind `aws-sdk-client-mock`: the commands the engine sends are answered
 * as Athena answers them (idempotency tokens, QUEUED → RUNNING → SUCCEEDED, FAILED with a reason,
 * result pages with a header row, the result CSV written to the output location, CTAS tables with
 * Glue types, UNLOAD refusing a non-empty location), and the SQL itself runs on DuckDB, which
 * reads the Trino the engine writes once a few Trino functions are defined as macros. It proves
 * the commands and the data flow, not Trino's semantics: those are parsed with a Trino grammar
 * in the check tests, and their meaning is argued in the code.
 */
export class FakeAthena {
  private readonly executions = new Map<string, FakeExecution>();
  private readonly tokens = new Map<string, { id: string; fingerprint: string }>();
  private readonly scripted: { state: 'FAILED' | 'CANCELLED'; reason: string }[] = [];
  private throttles = 0;
  private count = 0;
  /** Rows per GetQueryResults page (small, so paging is exercised). */
  pageSize = 2;
  /**
   * What a CTAS of zero rows leaves at its location: a Parquet file with no rows (as DuckDB writes
   * one), no file at all, or one empty object. Real Athena's behaviour is not pinned down: callers
   * must take all three.
   */
  ctasOfNoRows: 'parquet' | 'no-file' | 'empty-object' = 'parquet';

  private constructor(
    private readonly db: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    readonly store: LocalStore,
    readonly bucket: string,
  ) {}

  static async create(store: LocalStore, bucket: string): Promise<FakeAthena> {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(`SET TimeZone = 'UTC'`);
    await conn.run(`CREATE TABLE src AS ${CONTRACT_SOURCE_SQL}`);
    // Trino functions the engine and the checks use, in DuckDB terms.
    await conn.run(`CREATE MACRO date_format(t, f) AS strftime(t, replace(replace(f, '%i', '%M'), '%s', '%S'))`);
    await conn.run(`CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)`);
    await conn.run(`CREATE MACRO json_format(j) AS CAST(j AS VARCHAR)`);
    await conn.run(`CREATE MACRO at_timezone(t, z) AS timezone(z, t)`);
    return new FakeAthena(db, conn, store, bucket);
  }

  /** Answers the Athena commands of `client` (until `restore()` of the returned stub). */
  install(client: AthenaClient) {
    const stub = mockClient(client);
    stub.on(StartQueryExecutionCommand).callsFake((input) => this.start(input));
    stub.on(GetQueryExecutionCommand).callsFake((input) => this.status(input.QueryExecutionId));
    stub.on(GetQueryResultsCommand).callsFake((input) => this.results(input.QueryExecutionId, input.NextToken, input.MaxResults));
    stub.on(StopQueryExecutionCommand).callsFake((input) => this.stop(input.QueryExecutionId));
    stub.on(GetTableMetadataCommand).callsFake((input) => this.tableMetadata(input.DatabaseName, input.TableName));
    return stub;
  }

  /** The next started query ends in this state with this reason. */
  failNext(state: 'FAILED' | 'CANCELLED', reason: string): void {
    this.scripted.push({ state, reason });
  }

  /** The next `n` Athena calls are throttled. */
  throttleNext(n: number): void {
    this.throttles = n;
  }

  /** Queries actually started (not found again by their token). */
  get started(): number {
    return this.count;
  }

  async close(): Promise<void> {
    this.conn.closeSync();
    this.db.closeSync();
  }

  private throttle(): void {
    if (this.throttles > 0) {
      this.throttles--;
      throw new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 }, Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED' });
    }
  }

  private async start(input: StartQueryExecutionCommandInput) {
    this.throttle();
    const fingerprint = JSON.stringify([
      input.QueryString,
      input.ExecutionParameters ?? [],
      input.WorkGroup,
      input.ResultConfiguration,
      input.QueryExecutionContext,
    ]);
    const token = input.ClientRequestToken!;
    if (token.length < 32 || token.length > 128)
      throw new InvalidRequestException({ message: `ClientRequestToken length ${token.length} is outside 32..128`, $metadata: {} });
    const known = this.tokens.get(token);
    if (known) {
      if (known.fingerprint !== fingerprint) throw new InvalidRequestException({ message: 'Idempotent parameters do not match', $metadata: {} });
      return { QueryExecutionId: known.id };
    }
    const id = `q-${String(++this.count).padStart(4, '0')}`;
    this.tokens.set(token, { id, fingerprint });
    const output = input.ResultConfiguration?.OutputLocation ?? `s3://${this.bucket}/workgroup-results/`;
    const execution: FakeExecution = { id, input, output, polls: 0, state: 'SUCCEEDED', reason: undefined, columns: [], rows: [], updateCount: undefined };
    this.executions.set(id, execution);
    const scripted = this.scripted.shift();
    if (scripted) Object.assign(execution, scripted);
    else
      await this.runOn(execution).catch((error: Error) =>
        Object.assign(execution, { state: 'FAILED', reason: `SYNTAX_ERROR: ${error.message.split('\n')[0]}` }),
      );
    return { QueryExecutionId: id };
  }

  private status(id: string | undefined): { QueryExecution: QueryExecution } {
    this.throttle();
    const e = this.get(id);
    // One poll sees it running, as a real query would be for a while.
    const state = e.polls++ === 0 ? 'RUNNING' : e.state;
    return {
      QueryExecution: {
        QueryExecutionId: e.id,
        Query: e.input.QueryString,
        WorkGroup: e.input.WorkGroup,
        Status: { State: state, ...(state === e.state && e.reason ? { StateChangeReason: e.reason } : {}) },
        Statistics: state === 'SUCCEEDED' ? { DataScannedInBytes: 1234, EngineExecutionTimeInMillis: 56 } : {},
        ResultConfiguration: { OutputLocation: `${e.output}${e.id}.csv` },
      },
    };
  }

  private results(id: string | undefined, next: string | undefined, max: number | undefined) {
    this.throttle();
    const e = this.get(id);
    if (e.state !== 'SUCCEEDED') throw new InvalidRequestException({ message: `Query has not yet finished. Current state: ${e.state}`, $metadata: {} });
    const all = e.columns.length ? [e.columns.map((c) => c.name), ...e.rows] : [];
    const from = next ? Number(next) : 0;
    const size = Math.min(max ?? 1000, this.pageSize);
    const page = all.slice(from, from + size);
    return {
      UpdateCount: e.updateCount ?? 0,
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: e.columns.map((c) => ({ Name: c.name, Label: c.name, Type: c.athenaType })) },
        Rows: page.map((row) => ({ Data: row.map((v) => (v === null ? {} : { VarCharValue: v })) })),
      },
      ...(from + size < all.length ? { NextToken: String(from + size) } : {}),
    };
  }

  private stop(id: string | undefined) {
    const e = this.get(id);
    if (e.polls < 2) Object.assign(e, { state: 'CANCELLED', reason: 'Query cancelled by user' });
    return {};
  }

  /** Glue keeps column names in lower case, whatever the query called them. */
  private async tableMetadata(database: string | undefined, table: string | undefined) {
    this.throttle();
    try {
      const reader = await this.conn.runAndReadAll(`DESCRIBE ${q(database!)}.${q(table!)}`);
      const rows = reader.getRowObjectsJson() as { column_name: string; column_type: string }[];
      return {
        TableMetadata: {
          Name: table,
          TableType: 'EXTERNAL_TABLE',
          Columns: rows.map((r) => ({ Name: r.column_name.toLowerCase(), Type: hiveType(r.column_type) })),
        },
      };
    } catch {
      throw new MetadataException({ message: `Table ${table} not found in database ${database}`, $metadata: {} });
    }
  }

  private get(id: string | undefined): FakeExecution {
    const e = this.executions.get(id ?? '');
    if (!e) throw new InvalidRequestException({ message: `QueryExecution ${id} was not found`, $metadata: {} });
    return e;
  }

  /** Runs the statement on DuckDB with the parameters substituted as Athena does (each one a literal). */
  private async runOn(e: FakeExecution): Promise<void> {
    const sql = bind(e.input.QueryString!, e.input.ExecutionParameters ?? []);
    const ctas = /^CREATE TABLE ("(?:[^"]|"")+")\.("(?:[^"]|"")+") WITH \((.*?)\) AS ([\s\S]*)$/.exec(sql);
    const unload = /^UNLOAD \(([\s\S]*)\) TO '((?:[^']|'')*)' WITH \((.*)\)$/.exec(sql);
    if (ctas) {
      const location = /external_location = '((?:[^']|'')*)'/.exec(ctas[3])![1];
      await this.mustBeEmpty(location);
      await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${ctas[1]}`);
      await this.conn.run(`CREATE TABLE ${ctas[1]}.${ctas[2]} AS ${ctas[4]}`);
      const path = this.pathOf(`${location}20240115_${e.id}_00000`);
      await mkdir(dirname(path), { recursive: true });
      e.updateCount = await this.countOf(`${ctas[1]}.${ctas[2]}`);
      if (e.updateCount > 0 || this.ctasOfNoRows === 'parquet')
        await this.conn.run(`COPY ${ctas[1]}.${ctas[2]} TO '${path}' (FORMAT parquet, COMPRESSION zstd)`);
      else if (this.ctasOfNoRows === 'empty-object') await writeFile(path, '');
    } else if (unload) {
      const location = unload[2];
      await this.mustBeEmpty(location);
      const codec = /compression = '(\w+)'/.exec(unload[3])?.[1].toLowerCase() ?? 'gzip';
      const partition = /partitioned_by = ARRAY\['(\w+)'\]/.exec(unload[3])?.[1];
      const dir = this.pathOf(location);
      await mkdir(dir, { recursive: true });
      const options = `FORMAT parquet, COMPRESSION ${codec === 'none' ? 'uncompressed' : codec}`;
      if (partition) await this.conn.run(`COPY (${unload[1]}) TO '${dir}' (${options}, PARTITION_BY (${partition}), OVERWRITE_OR_IGNORE)`);
      else await this.conn.run(`COPY (${unload[1]}) TO '${dir}${e.id}_00000_part' (${options})`);
      e.updateCount = await this.countOf(`(${unload[1]})`);
    } else if (/^CREATE EXTERNAL TABLE /.test(sql)) {
      // A symlink table (the Athena diff's): its location holds text files listing the Parquet objects it reads.
      const ext =
        /^CREATE EXTERNAL TABLE `((?:[^`]|``)+)`\.`((?:[^`]|``)+)` \(.*\) ROW FORMAT SERDE '[^']+' STORED AS INPUTFORMAT 'org\.apache\.hadoop\.hive\.ql\.io\.SymlinkTextInputFormat' OUTPUTFORMAT '[^']+' LOCATION '((?:[^']|'')*)'$/.exec(
          sql,
        );
      if (!ext) throw new Error(`the fake creates symlink Parquet tables only (Hive DDL): ${sql.slice(0, 120)}`);
      const [db, table] = [ext[1], ext[2]].map((n) => q(n.replace(/``/g, '`')));
      const uris: string[] = [];
      for await (const o of this.store.list(this.keyOf(ext[3]))) uris.push(...(await this.store.get(o.key))!.body.toString('utf8').split('\n').filter(Boolean));
      await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${db}`);
      await this.conn.run(`CREATE VIEW ${db}.${table} AS SELECT * FROM read_parquet([${uris.map((u) => `'${this.pathOf(u)}'`).join(', ')}])`);
    } else if (/^(DROP|ALTER|MSCK|DESCRIBE|SHOW)\b/i.test(sql)) {
      // Athena parses DDL with Hive's grammar: backticks, never Trino's double quotes.
      const drop = /^DROP TABLE IF EXISTS `((?:[^`]|``)+)`\.`((?:[^`]|``)+)`$/.exec(sql);
      if (!drop) throw new Error(`line 1:22: mismatched input. Expecting: <identifier> (Hive DDL): ${sql}`);
      const [db, table] = [drop[1], drop[2]].map((n) => q(n.replace(/``/g, '`')));
      await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${db}`);
      // Athena's DROP TABLE drops a table of either kind; DuckDB names a symlink table a view.
      const views = await this.conn.runAndReadAll(`SELECT count(*) FROM duckdb_views() WHERE schema_name = ${lit(drop[1])} AND view_name = ${lit(drop[2])}`);
      await this.conn.run(`DROP ${Number(views.getRows()[0][0]) > 0 ? 'VIEW' : 'TABLE'} IF EXISTS ${db}.${table}`);
    } else if (/^\s*(SELECT|WITH|VALUES)\b/i.test(sql)) {
      await this.select(e, sql);
    } else {
      throw new Error(`the fake runs CTAS, UNLOAD, DROP TABLE and SELECT only, not: ${sql.slice(0, 60)}`);
    }
  }

  /** A SELECT: its rows as Athena's text, the result CSV written where Athena writes it. */
  private async select(e: FakeExecution, sql: string): Promise<void> {
    const typed = await this.conn.runAndReadAll(`SELECT * FROM (\n${sql}\n) AS q LIMIT 0`);
    const names = typed.columnNames();
    const types = typed.columnTypes().map((t) => t.toString());
    const text = names.map((n, i) => athenaText(`q.${q(n)}`, types[i])).join(', ');
    const reader = await this.conn.runAndReadAll(`SELECT ${text} FROM (\n${sql}\n) AS q`);
    e.columns = names.map((name, i) => ({ name, athenaType: athenaType(types[i]) }));
    e.rows = reader.getRows().map((r) => r.map((v) => (v === null ? null : String(v))));
    const csv = [e.columns.map((c) => quoted(c.name)), ...e.rows.map((r) => r.map((v) => (v === null ? '' : quoted(v))))]
      .map((r) => r.join(',') + '\n')
      .join('');
    const key = this.keyOf(`${e.output}${e.id}.csv`);
    await this.store.put(key, csv);
  }

  private async countOf(relation: string): Promise<number> {
    const r = await this.conn.runAndReadAll(`SELECT count(*) FROM ${relation} AS c`);
    return Number(r.getRows()[0][0]);
  }

  private async mustBeEmpty(location: string): Promise<void> {
    for await (const _ of this.store.list(this.keyOf(location)))
      throw new Error(`HIVE_PATH_ALREADY_EXISTS: Target directory for table already exists: ${location}`);
  }

  private keyOf(uri: string): string {
    const root = `s3://${this.bucket}/`;
    if (!uri.startsWith(root)) throw new Error(`Access Denied: ${uri} is outside the bucket ${this.bucket}`);
    return uri.slice(root.length);
  }

  private pathOf(uri: string): string {
    const key = this.keyOf(uri);
    return key.endsWith('/') ? `${this.store.localPath(key.slice(0, -1))}/` : this.store.localPath(key);
  }
}

interface FakeExecution {
  id: string;
  input: StartQueryExecutionCommandInput;
  output: string;
  polls: number;
  state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  reason: string | undefined;
  columns: { name: string; athenaType: string }[];
  rows: (string | null)[][];
  updateCount: number | undefined;
}

/** `?` replaced by the execution parameters in order, as Athena binds them. */
function bind(sql: string, parameters: readonly string[]): string {
  const uses = scanParameters(sql).filter((u) => u.kind === 'positional');
  // Athena takes `?` only inside a WHERE clause.
  if (uses.some((u) => !u.inWhere)) throw new Error('Parameters are only supported in the WHERE clause');
  if (uses.length !== parameters.length) throw new Error(`the query has ${uses.length} parameters but ${parameters.length} ExecutionParameters were given`);
  let out = '';
  let from = 0;
  uses.forEach((u, i) => {
    out += sql.slice(from, u.offset) + parameters[i];
    from = u.offset + u.length;
  });
  return out + sql.slice(from);
}

function lit(text: string): string {
  return `'${text.replace(/``/g, '`').replace(/'/g, "''")}'`;
}

function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoted(v: string): string {
  return `"${v.replace(/"/g, '""')}"`;
}

/** How Athena prints a value in GetQueryResults and the result CSV. */
function athenaText(expr: string, type: string): string {
  if (type.startsWith('TIMESTAMP')) return `strftime(${expr}, '%Y-%m-%d %H:%M:%S.%g')`;
  return `CAST(${expr} AS VARCHAR)`;
}

/** DuckDB type → the type name GetQueryResults reports. */
function athenaType(type: string): string {
  if (type.startsWith('DECIMAL')) return 'decimal';
  const map: Record<string, string> = {
    INTEGER: 'integer',
    BIGINT: 'bigint',
    VARCHAR: 'varchar',
    DOUBLE: 'double',
    BOOLEAN: 'boolean',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    SMALLINT: 'smallint',
    TINYINT: 'tinyint',
    FLOAT: 'real',
  };
  return map[type] ?? type.toLowerCase();
}

/** DuckDB type → the Hive type Glue stores for a CTAS table. */
function hiveType(type: string): string {
  const map: Record<string, string> = { INTEGER: 'int', VARCHAR: 'string', FLOAT: 'float' };
  return map[type] ?? type.toLowerCase();
}
