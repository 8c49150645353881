import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { CronError, parseCron, toEventBridgeCron } from '../core/cron';
import { ConfigError, ConfigProblem } from '../core/errors';
import { BUILTIN_PARAMETERS, feedSchema, FeedFile, projectSchema, ProjectFile } from '../core/feed/feed-schema';
import type { FeedDefinition } from '../core/feed/feed-definition';
import { isValidTimeZone } from '../core/slots';
import { referencedParameters, scanParameters } from '../core/sql-parameters';
import type { LocalSource } from '../core/feed/feed-definition';
import { compileMetricQuery, SemanticQueryError } from '../semantic/compile';
import { ENGINE_DIALECTS, ENGINE_NAMES, type RegisteredEngine } from '../engines';
import type { SqlDialect } from '../core/sql-dialect';
import { buildSemanticLayer, SemanticFile, SemanticLayer } from '../semantic/semantic-layer';
import { globRootOf, isGlob, matchingFiles } from './source-files';
import { zodProblems } from './zod-problems';

export const PROJECT_FILE = 'dropkit.yaml';

export interface Project {
  /** Absolute folder of the project file. */
  readonly dir: string;
  readonly spec: ProjectFile;
  readonly feeds: readonly FeedDefinition[];
  /** Local sources with absolute paths. */
  readonly sources: Readonly<Record<string, LocalSource>>;
  /** Absolute path of the local store folder. */
  readonly outputDir: string;
  /** The semantic layer (dbt MetricFlow YAML), when the project has one. */
  readonly semantic?: SemanticLayer;
}

/**
 * Loads and validates a project folder: the project file and every feed file in its feeds folder.
 * Collects every problem of every file and throws them together as one ConfigError.
 */
export interface LoadProjectOptions {
  /**
   * Whether the local `sources:` must match files: they must for a local run and `dropkit check`,
   * not for `cdk synth`, where the feeds read the catalog's tables and the local data may not exist.
   * @default true
   */
  readonly localSources?: boolean;
}

export function loadProject(projectDir: string, options: LoadProjectOptions = {}): Project {
  const dir = resolve(projectDir);
  const problems: ConfigProblem[] = [];
  const projectPath = join(dir, PROJECT_FILE);
  if (!existsSync(projectPath)) {
    throw new ConfigError([
      { file: projectPath, path: '', message: 'no project file here', fix: `run from a project folder or pass --project DIR (a folder with ${PROJECT_FILE})` },
    ]);
  }
  const rawProject = readYaml(projectPath, PROJECT_FILE, problems);
  const parsedProject = rawProject === undefined ? undefined : projectSchema.safeParse(rawProject);
  if (parsedProject && !parsedProject.success) problems.push(...zodProblems(PROJECT_FILE, rawProject, parsedProject.error.issues, projectSchema));
  const spec = parsedProject?.success ? parsedProject.data : undefined;

  const sources: Record<string, LocalSource> = {};
  for (const [name, source] of Object.entries(spec?.sources ?? {})) {
    const path = typeof source === 'string' ? source : source.path;
    const abs = isAbsolute(path) ? path : join(dir, path);
    const format = (typeof source === 'string' ? undefined : source.format) ?? (/\.parquet$/i.test(path) ? 'parquet' : 'csv');
    sources[name] = { path: abs, format };
    const at = { file: PROJECT_FILE, path: typeof source === 'string' ? `sources.${name}` : `sources.${name}.path`, value: path };
    // What a local engine would be allowed to read, and would only find out when a run opens it: said at check time.
    if (options.localSources !== false) {
      const reach = sourceReachProblem(abs, dir, spec ? resolve(dir, spec.output) : undefined, typeof source !== 'string' && source.outsideProject === true);
      if (reach) {
        problems.push({ ...at, ...reach });
        continue;
      }
      const files = matchingFiles(abs);
      if (files.length === 0) {
        problems.push({
          ...at,
          message: 'no file matches this source',
          fix: `create the file or correct the path (relative to ${PROJECT_FILE}); a glob such as data/*.parquet must match at least one file`,
        });
      }
      // DuckDB follows a file symlink and refuses a target outside the folders it may read.
      const escaping = isGlob(abs) ? files.filter((f) => !within(realpathSync(globRootOf(abs)), realpathSync(f))) : [];
      if (escaping.length) {
        problems.push({
          ...at,
          message: `matches ${escaping.length} symlink(s) to files outside ${relative(dir, globRootOf(abs)) || '.'} (${escaping
            .slice(0, 3)
            .map((f) => `${relative(dir, f)} → ${realpathSync(f)}`)
            .join(', ')}): the engine may not read them, so every feed of the project would fail at start`,
          fix: 'copy the files into the folder, or declare where they really are as a source of their own',
        });
      }
    }
  }

  const semantic = spec ? loadSemantic(dir, spec, problems) : undefined;
  const feedsDir = join(dir, spec?.feeds ?? 'feeds');
  const feeds: FeedDefinition[] = [];
  if (spec && !existsSync(feedsDir)) {
    problems.push({ file: PROJECT_FILE, path: 'feeds', message: 'feeds folder not found', value: spec.feeds, fix: 'create the folder or point `feeds` at it' });
  } else if (spec) {
    const files = readdirSync(feedsDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    for (const f of files) {
      const feed = loadFeed(join(feedsDir, f), dir, problems, semantic);
      if (feed) feeds.push(feed);
    }
    if (files.length === 0)
      problems.push({ file: relative(dir, feedsDir) || '.', path: '', message: 'no feed files (*.yaml) found', fix: 'add one YAML file per feed' });
  }
  problems.push(...duplicateNames(feeds));
  const outputDir = spec ? resolve(dir, spec.output) : undefined;
  // Runs write every drop, lease and record under it: a file there fails every command that writes.
  if (outputDir && existsSync(outputDir) && !statSync(outputDir).isDirectory()) {
    problems.push({
      file: PROJECT_FILE,
      path: 'output',
      message: 'names a file, not a folder: the store is a folder',
      value: spec!.output,
      fix: 'point output at a folder (it is created if missing), e.g. out',
    });
  }
  if (problems.length) throw new ConfigError(problems);
  return { dir, spec: spec!, feeds, sources, outputDir: outputDir!, ...(semantic ? { semantic } : {}) };
}

/** Folders of a dbt project that hold dbt's output or packages, never the project's own YAML. */
const SKIPPED_DIRS = new Set(['target', 'dbt_packages', 'logs', 'node_modules']);

/**
 * Reads the semantic layer: every YAML file under `semantic.path` (default `semantic/`, used when
 * it exists), so the models/ folder of a dbt project works as it is.
 */
function loadSemantic(dir: string, spec: ProjectFile, problems: ConfigProblem[]): SemanticLayer | undefined {
  const root = join(dir, spec.semantic?.path ?? 'semantic');
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    if (spec.semantic)
      problems.push({
        file: PROJECT_FILE,
        path: 'semantic.path',
        message: 'semantic layer folder not found',
        value: spec.semantic.path,
        fix: 'create the folder with your semantic_models/metrics YAML, or correct the path',
      });
    return undefined;
  }
  const files: SemanticFile[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(entry.name)) {
        const file = relative(dir, path);
        const raw = readYaml(path, file, problems);
        if (raw !== null && typeof raw === 'object' && ('semantic_models' in raw || 'metrics' in raw)) files.push({ file, raw });
      }
    }
  };
  walk(root);
  const built = buildSemanticLayer(files);
  problems.push(...built.problems);
  return built.problems.length ? undefined : built.layer;
}

/** Compiles a feed's metric selection for both engines; the SQL then runs like any feed's. */
function compileSelect(file: string, spec: FeedFile, semantic: SemanticLayer | undefined, problems: ConfigProblem[]) {
  const select = spec.select!;
  if (!semantic) {
    problems.push({
      file,
      path: 'select',
      message: 'the feed selects metrics but the project has no semantic layer',
      fix: 'put dbt semantic_models/metrics YAML in the semantic/ folder, or set semantic: { path } in dropkit.yaml',
    });
    return undefined;
  }
  try {
    const query = { metrics: select.metrics, groupBy: select.group_by, where: select.where };
    // One plan, compiled to every registered engine's dialect.
    const compiled = ENGINE_NAMES.map((name) => [name, compileMetricQuery(semantic, query, ENGINE_DIALECTS[name])] as const);
    const sql = Object.fromEntries(compiled.map(([name, c]) => [name, c.sql])) as Record<RegisteredEngine, string>;
    return { sql, semantics: { metrics: [...select.metrics], columns: compiled[0][1].plan.columns } };
  } catch (e) {
    if (!(e instanceof SemanticQueryError)) throw e;
    problems.push({ file, path: e.field, message: e.message, value: e.value, fix: e.fix });
    return undefined;
  }
}

/** Whether `path` is `folder` or inside it. */
function within(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Sources must not reach the store (a glob rooted at or above it would let feed SQL read every
 * feed's drops, staging and outbox), and a glob rooted outside the project must say so on purpose:
 * the engine lets feed SQL read everything under a glob's root.
 */
function sourceReachProblem(
  abs: string,
  projectDir: string,
  outputDir: string | undefined,
  outsideProject: boolean,
): Pick<ConfigProblem, 'message' | 'fix'> | undefined {
  const glob = isGlob(abs);
  const root = glob ? globRootOf(abs) : abs;
  if (outputDir && (within(outputDir, root) || (glob && within(root, outputDir)))) {
    return {
      message: `this source reaches the store folder ${relative(projectDir, outputDir) || '.'} (every feed's drops, staging and outbox): feed SQL could read them`,
      fix: 'keep source data in a folder of its own, such as data/, and point the source there (for example data/*.csv)',
    };
  }
  if (glob && !outsideProject && !within(projectDir, root)) {
    return {
      message: `this glob is rooted at ${root}, outside the project folder: feed SQL could read every file under it`,
      fix: 'point it at a folder inside the project, or use the object form with `outsideProject: true` to allow it on purpose',
    };
  }
  return undefined;
}

function readYaml(path: string, file: string, problems: ConfigProblem[]): unknown {
  const doc = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const at = e.linePos?.[0];
      problems.push({
        file,
        path: at ? `line ${at.line}, column ${at.col}` : '',
        message: `not valid YAML: ${e.message.split('\n')[0]}`,
        fix: 'fix the YAML syntax (indentation, colons, quotes) at that line',
      });
    }
    return undefined;
  }
  if (!isMap(doc.contents)) {
    problems.push({ file, path: '', message: 'the file must hold a YAML mapping (key: value lines)', fix: 'start the file with `name: <feed name>`' });
    return undefined;
  }
  try {
    // The yaml library counts alias expansions: a "billion laughs" file stops here instead of filling memory.
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    problems.push({
      file,
      path: '',
      message: `too many aliases: its anchors (&name) and aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies (${(error as Error).message})`,
      fix: 'write the values out, or use fewer aliases; a feed file needs few if any',
    });
    return undefined;
  }
}

/** Alias expansions allowed per file: enough for any sane reuse of a block, far from a bomb. */
const MAX_ALIAS_COUNT = 100;

function loadFeed(path: string, projectDir: string, problems: ConfigProblem[], semantic: SemanticLayer | undefined): FeedDefinition | undefined {
  const file = relative(projectDir, path);
  const raw = readYaml(path, file, problems);
  if (raw === undefined) return undefined;
  const parsed = feedSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...zodProblems(file, raw, parsed.error.issues, feedSchema));
    return undefined;
  }
  const spec = parsed.data;
  const before = problems.length;
  let eventBridgeCron = '';
  try {
    eventBridgeCron = toEventBridgeCron(parseCron(spec.schedule.cron));
  } catch (e) {
    if (!(e instanceof CronError)) throw e;
    problems.push({ file, path: 'schedule.cron', message: e.message, value: spec.schedule.cron, fix: e.fix });
  }
  if (!isValidTimeZone(spec.schedule.timezone)) {
    problems.push({
      file,
      path: 'schedule.timezone',
      message: 'unknown time zone',
      value: spec.schedule.timezone,
      fix: 'use an IANA time zone name such as UTC, Europe/Amsterdam or America/New_York',
    });
  }
  problems.push(...partnerProblems(file, spec));
  if (spec.select) {
    const compiled = compileSelect(file, spec, semantic, problems);
    if (compiled) {
      // One where clause feeds every engine's SQL: its parameters are checked once, where they are placed most strictly.
      const strictest = ENGINE_NAMES.find((e) => ENGINE_DIALECTS[e].parameterStyle === 'positional-in-where') ?? ENGINE_NAMES[0];
      problems.push(...parameterProblems(compiled.sql[ENGINE_NAMES[0]], 'select.where', 'select.where', file, spec));
      problems.push(...parameterPlacement(compiled.sql[strictest], 'the compiled selection', file, [ENGINE_DIALECTS[strictest]]));
    }
    if (problems.length > before || !compiled) return undefined;
    return {
      file,
      spec,
      sql: compiled.sql,
      sqlFiles: Object.fromEntries(ENGINE_NAMES.map((e) => [e, SELECT_SQL_FILE])),
      semantics: compiled.semantics,
      eventBridgeCron,
    };
  }
  const sql = readSql(path, file, spec, problems);
  if (problems.length > before || !sql) return undefined;
  return { file, spec, sql: sql.text, sqlFiles: sql.files, eventBridgeCron };
}

function partnerProblems(file: string, spec: FeedFile): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  spec.partners.forEach((p, i) => {
    if (seen.has(p.id)) problems.push({ file, path: `partners.${i}.id`, message: 'partner id used twice', value: p.id, fix: 'give every partner its own id' });
    seen.add(p.id);
  });
  if (spec.delivery === 'per-partner' && spec.partners.length === 0) {
    problems.push({ file, path: 'partners', message: 'delivery is per-partner but no partners are listed', fix: 'list the partners, or set delivery: shared' });
  }
  if (spec.delivery === 'shared') {
    spec.partners.forEach((p, i) => {
      if (p.parameters)
        problems.push({
          file,
          path: `partners.${i}.parameters`,
          message: 'partner parameters only apply to per-partner delivery',
          fix: 'set delivery: per-partner, or move the parameters to the feed',
        });
    });
  }
  return problems;
}

/**
 * Resolves the SQL file of each registered engine: engine-specific (`query.<engine>`) if given,
 * else the common one, else <feed file>.sql. A file several engines share is read and checked once.
 */
function readSql(path: string, file: string, spec: FeedFile, problems: ConfigProblem[]) {
  const base = join(dirname(path), basename(path, extname(path)) + '.sql');
  const common = spec.query?.sql ? join(dirname(path), spec.query.sql) : base;
  const files = Object.fromEntries(ENGINE_NAMES.map((e) => [e, spec.query?.[e] ? join(dirname(path), spec.query[e]) : common])) as Record<
    RegisteredEngine,
    string
  >;
  // Engines grouped by the file they read, in registry order.
  const readers = new Map<string, RegisteredEngine[]>();
  for (const engine of ENGINE_NAMES) readers.set(files[engine], [...(readers.get(files[engine]) ?? []), engine]);
  const text = Object.fromEntries(ENGINE_NAMES.map((e) => [e, ''])) as Record<RegisteredEngine, string>;
  let ok = true;
  const shared = readers.size === 1;
  for (const [sqlPath, engines] of readers) {
    const engine = engines[0];
    const field = spec.query?.[engine] ? `query.${engine}` : spec.query?.sql ? 'query.sql' : 'query';
    const forWhom = shared ? '' : ` for ${engines.join(' and ')}`;
    if (!existsSync(sqlPath) || !statSync(sqlPath).isFile()) {
      problems.push({
        file,
        path: field,
        message: `SQL file${forWhom} not found`,
        value: relative(dirname(path), sqlPath),
        fix: `create ${relative(dirname(path), sqlPath)} beside the feed file, or set query.sql / query.${engine}`,
      });
      ok = false;
      continue;
    }
    const sql = readFileSync(sqlPath, 'utf8');
    for (const e of engines) text[e] = sql;
    if (!sql.trim()) {
      problems.push({
        file,
        path: field,
        message: `SQL file${forWhom} is empty`,
        value: relative(dirname(path), sqlPath),
        fix: 'write the SELECT that produces the feed',
      });
      ok = false;
    }
    const parameterIssues = parameterProblems(sql, relative(dirname(path), sqlPath), 'parameters', file, spec);
    problems.push(...parameterIssues);
    if (parameterIssues.length) ok = false;
  }
  for (const [sqlPath, engines] of readers) {
    const problemsHere = parameterPlacement(
      text[engines[0]],
      relative(dirname(path), sqlPath),
      file,
      engines.map((e) => ENGINE_DIALECTS[e]),
    );
    problems.push(...problemsHere);
    if (problemsHere.length) ok = false;
  }
  const relativeFiles = Object.fromEntries(ENGINE_NAMES.map((e) => [e, relative(dirname(path), files[e])])) as Record<RegisteredEngine, string>;
  return ok ? { text, files: relativeFiles } : undefined;
}

/** What `dropkit check` shows as the SQL file of a feed written as a metric selection. */
export const SELECT_SQL_FILE = '(compiled from select:)';

/** Each `$name` the SQL uses must be bound: built in, or defined by the feed or a partner. */
function parameterProblems(sql: string, sqlLabel: string, field: string, file: string, spec: FeedFile): ConfigProblem[] {
  const known = new Set<string>([...BUILTIN_PARAMETERS, ...Object.keys(spec.parameters ?? {})]);
  for (const p of spec.partners) for (const k of Object.keys(p.parameters ?? {})) known.add(k);
  const problems: ConfigProblem[] = [];
  for (const name of referencedParameters(sql)) {
    if (!known.has(name)) {
      problems.push({
        file,
        path: field,
        message: `${sqlLabel} uses $${name}, which is not defined`,
        value: name,
        fix: `define ${name} under parameters:, or use one of $${[...known].join(', $')}`,
      });
    } else if (name === 'partner_id' && spec.delivery !== 'per-partner') {
      problems.push({
        file,
        path: 'delivery',
        message: `${sqlLabel} uses $partner_id but delivery is shared`,
        value: spec.delivery,
        fix: 'set delivery: per-partner so each partner gets its own drop',
      });
    }
  }
  return problems;
}

/**
 * Parameters are `$name`: `$1` and `?` are not (they would be bound by position, silently wrong
 * when the SQL changes). SQL that runs on an engine taking positional parameters (Athena) takes
 * them only inside a WHERE clause. The file is read as the first of its engines reads it.
 */
function parameterPlacement(sql: string, sqlFile: string, file: string, readers: readonly SqlDialect[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const whereOnly = readers.find((d) => d.parameterStyle === 'positional-in-where');
  for (const use of scanParameters(sql, readers[0].lexing)) {
    const line = sql.slice(0, use.offset).split('\n').length;
    if (use.kind !== 'named') {
      problems.push({
        file,
        path: 'query',
        message: `${sqlFile} line ${line} uses the positional parameter ${use.kind === 'numbered' ? `$${use.name}` : '?'}`,
        value: use.kind === 'numbered' ? `$${use.name}` : '?',
        fix: 'name parameters: $window_start, $window_end, $slot, $partner_id or one defined under parameters:',
      });
    } else if (whereOnly && !use.inWhere) {
      problems.push({
        file,
        path: 'query',
        message: `${sqlFile} line ${line} uses $${use.name} outside a WHERE clause, and ${whereOnly.label} takes query parameters only in WHERE`,
        value: `$${use.name}`,
        fix: `move the condition on $${use.name} into the WHERE clause, or give ${whereOnly.label} its own SQL (query.${whereOnly.name}) that does`,
      });
    }
  }
  return problems;
}

function duplicateNames(feeds: FeedDefinition[]): ConfigProblem[] {
  const byName = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const f of feeds) {
    const other = byName.get(f.spec.name);
    if (other)
      problems.push({ file: f.file, path: 'name', message: `feed name already used by ${other}`, value: f.spec.name, fix: 'give every feed a unique name' });
    else byName.set(f.spec.name, f.file);
  }
  return problems;
}
