import { DateTime } from 'luxon';
import { resolve } from 'node:path';
import { parseCron } from '../../core/cron';
import { deadlineFor } from '../../core/sla';
import { nextSlot } from '../../core/slots';
import { ConfigError, UsageError } from '../../core/errors';
import type { DeployWarning, TableLister, TablesReader } from '../../project/deploy-warnings';
import type { Project } from '../../project/load-project';
import type { ColumnSchema } from '../../core/ports/query-engine';
import type { FeedFile } from '../../core/feed/feed-schema';
import { LocalStore } from '../../adapters/local/local-store';
import { latestBase, latestKey } from '../../core/layout';
import { cacheKey, CheckCache, installedVersion, inputsIdentity, type Inputs } from '../check-cache';
import { parseCommandArgs, parseTimeArg, projectOption } from '../args';
import { EXIT } from '../exit-codes';
import { parseStoreJson } from '../../core/store-json';

const SLOTS_SHOWN = 3;

/**
 * `dropkit check`: validates every feed (all problems at once) and shows the next slots and
 * deadlines; with a semantic layer, the metrics no feed serves. `--impact METRIC` lists the feeds
 * whose output changes when that metric's definition changes.
 */
export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('check', args, {
    ...projectOption,
    now: { type: 'string' },
    json: { type: 'boolean', default: false },
    impact: { type: 'string' },
    'no-cache': { type: 'boolean', default: false },
  });
  if (values.impact !== undefined) return impactReport(loadProject(values.project), values.impact, values.json);
  const cache = values['no-cache'] ? CheckCache.disabled() : CheckCache.open(values.project);
  // A project whose every input is as the last valid check saw it: its findings, without loading
  // the YAML parser, zod, DuckDB or the SQL grammar. Anything changed: the whole check again.
  const key = findingsKey(values.project);
  const remembered = recall(cache, key);
  // Read before the project is: findings of inputs changed since are not remembered.
  const started = remembered ? undefined : cache.fileClock();
  const project = remembered ? undefined : loadProject(values.project);
  const now = values.now ? parseTimeArg('--now', values.now) : new Date();
  const found = remembered ?? (await examine(project!, now, cache, key, started));
  const changed = await scheduleChanges(found);
  const feeds = found.feeds.map((feed) => {
    const cron = parseCron(feed.cron);
    const slots: { slot: string; local: string; deadline: string; deadlineLocal: string }[] = [];
    let at = now;
    for (let i = 0; i < SLOTS_SHOWN; i++) {
      at = nextSlot(cron, feed.timezone, at);
      const deadline = deadlineFor(feed.sla, at, feed.timezone);
      slots.push({
        slot: at.toISOString(),
        local: local(at, feed.timezone),
        deadline: deadline.toISOString(),
        deadlineLocal: local(deadline, feed.timezone),
      });
    }
    return {
      name: feed.name,
      file: feed.file,
      cron: feed.cron,
      timezone: feed.timezone,
      eventBridge: feed.eventBridge,
      delivery: feed.delivery,
      partners: feed.partners,
      formats: feed.formats,
      checks: feed.checks,
      nextSlots: slots,
      warnings: changed.filter((w) => w.feed === feed.name).map((w) => w.message),
      columns: feed.columns,
    };
  });
  const { semantic, warnings } = found;
  if (values.json) {
    process.stdout.write(JSON.stringify({ status: 'valid', project: found.project, feeds, warnings, ...(semantic ? { semantic } : {}) }, null, 2) + '\n');
    return EXIT.ok;
  }
  const out: string[] = [`✓ ${found.project}: ${feeds.length} feed${feeds.length === 1 ? '' : 's'} valid`];
  if (semantic) {
    out.push(
      `  semantic layer: ${semantic.metrics} metrics; ${semantic.unused.length ? `used by no feed: ${semantic.unused.join(', ')}` : 'every one served by a feed'}`,
    );
  }
  for (const f of feeds) {
    out.push('', `${f.name}  (${f.file})`);
    out.push(`  schedule  ${f.cron} in ${f.timezone}  →  EventBridge ${f.eventBridge}`);
    out.push(
      `  delivers  ${f.formats.join(' + ')}, ${f.delivery === 'per-partner' ? `one drop per partner (${f.partners.join(', ')})` : `shared${f.partners.length ? ` with ${f.partners.join(', ')}` : ''}`}; ${f.checks} check${f.checks === 1 ? '' : 's'}`,
    );
    out.push(
      f.columns.length
        ? `  returns   ${f.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`
        : '  returns   (not compiled: dropkit.yaml declares no local sources)',
    );
    for (const w of f.warnings) out.push(`  WARN      ${w}`);
    for (const s of f.nextSlots) out.push(`  slot ${s.local}  (${s.slot})  due by ${s.deadlineLocal}`);
  }
  if (warnings.length) out.push('', `⚠ ${warnings.length} warning${warnings.length === 1 ? '' : 's'} for AWS:`);
  for (const w of warnings) out.push(`  ${w.feed} (${w.file}): ${w.message}`, `    fix: ${w.fix}`);
  if (!found.grammar) out.push('', 'note: install node-sql-parser to check which tables the feeds read on AWS against the aws: section');
  process.stdout.write(out.join('\n') + '\n');
  return EXIT.ok;
}

/** What check finds in a valid project that does not depend on the time or the store: what is remembered. */
interface Findings {
  readonly project: string;
  readonly prefix: string;
  readonly outputDir: string;
  readonly feeds: readonly {
    readonly name: string;
    readonly file: string;
    readonly cron: string;
    readonly timezone: string;
    readonly sla: FeedFile['sla'];
    readonly eventBridge: string;
    readonly delivery: FeedFile['delivery'];
    readonly partners: string[];
    /** Whose drops the feed makes: one shared (null) or one per partner. */
    readonly deliveryPartners: (string | null)[];
    readonly formats: string[];
    readonly checks: number;
    readonly columns: readonly ColumnSchema[];
  }[];
  readonly semantic?: { readonly metrics: number; readonly unused: string[] };
  readonly warnings: DeployWarning[];
  /** Whether node-sql-parser was there to read the Athena SQL. */
  readonly grammar: boolean;
}

/** What the remembered findings of a project depend on besides its files: a change compiles again. */
function findingsKey(projectDir: string): string {
  return cacheKey('check-findings', {
    dir: resolve(projectDir),
    duckdb: installedVersion('@duckdb/node-api'),
    grammar: installedVersion('node-sql-parser'),
    engineEnv: engineEnv(),
  });
}

/** The findings of the last check of this project, if every file it read is unchanged. */
function recall(cache: CheckCache, key: string): Findings | undefined {
  const entry = cache.get<{ inputs: Inputs; identity: string; findings: Findings }>(key);
  if (!entry) return undefined;
  return inputsIdentity(entry.inputs) === entry.identity ? entry.findings : undefined;
}

/** The whole check of a valid project; its findings are remembered with the identity of what it read. */
async function examine(project: Project, now: Date, cache: CheckCache, key: string, started: bigint | undefined): Promise<Findings> {
  // Loaded here, not imported: a check answered from the cache needs none of them.
  const { compileFeedSql } = require('../compile-sql') as typeof import('../compile-sql');
  const { deployWarnings } = require('../../project/deploy-warnings') as typeof import('../../project/deploy-warnings');
  const { unusedMetrics } = require('../../semantic/metric-usage') as typeof import('../../semantic/metric-usage');
  const { deliveryPartners } = require('../../core/feed/feed-definition') as typeof import('../../core/feed/feed-definition');
  // Broken SQL fails here, with file:line:column, not in the first run.
  const compiled = await compileFeedSql(project, now, { cache });
  if (compiled.problems.length > 0) {
    cache.save();
    throw new ConfigError(compiled.problems);
  }
  // What would fail only once deployed: tables the roles are not granted, types Athena cannot stage.
  const parser = cachedTablesReader(cache);
  const findings: Findings = {
    project: project.spec.name,
    prefix: project.spec.prefix,
    outputDir: project.outputDir,
    feeds: project.feeds.map((feed) => ({
      name: feed.spec.name,
      file: feed.file,
      cron: feed.spec.schedule.cron,
      timezone: feed.spec.schedule.timezone,
      sla: feed.spec.sla,
      eventBridge: feed.eventBridgeCron,
      delivery: feed.spec.delivery,
      partners: feed.spec.partners.map((p) => p.id),
      deliveryPartners: deliveryPartners(feed),
      formats: Object.keys(feed.spec.formats),
      checks: feed.spec.checks.length,
      columns: compiled.feeds.find((c) => c.feed === feed.spec.name)?.columns ?? [],
    })),
    ...(project.semantic ? { semantic: { metrics: project.semantic.metrics.size, unused: unusedMetrics(project.semantic, consumers(project)) } } : {}),
    warnings: deployWarnings(project.feeds, project.spec.aws, parser),
    grammar: parser !== undefined,
  };
  const inputs = started === undefined ? undefined : projectInputs(project);
  const identity = inputs && inputsIdentity(inputs, started);
  if (identity !== undefined) cache.set(key, { inputs, identity, findings });
  cache.save();
  return findings;
}

/**
 * Every file and folder loading the project read: the project folder (but its store), the feeds
 * and semantic folders and SQL files wherever they are, and the sources' files.
 */
function projectInputs(project: Project): Inputs {
  const dir = resolve(project.dir);
  const feedsDir = resolve(dir, project.spec.feeds ?? 'feeds');
  const semanticDir = resolve(dir, project.spec.semantic?.path ?? 'semantic');
  const sqlFiles = project.feeds.flatMap((feed) => Object.values(feed.sqlFiles).map((sql) => resolve(dir, feed.file, '..', sql)));
  return {
    trees: [...new Set([dir, feedsDir, semanticDir])],
    skip: [resolve(project.outputDir), resolve(dir, '.git'), resolve(dir, 'node_modules')],
    files: [...new Set([...sqlFiles, resolve(project.outputDir)])].sort(),
    sources: project.sources,
  };
}

/** The DuckDB budget variables (a bad value fails the engine's open): a changed one compiles again. */
function engineEnv(): [string, string | undefined][] {
  return Object.entries(process.env)
    .filter(([name]) => name.startsWith('DROPKIT_DUCKDB_'))
    .sort();
}

function loadProject(dir: string): Project {
  return (require('../../project/load-project') as typeof import('../../project/load-project')).loadProject(dir);
}

/**
 * Which tables each feed's Athena SQL reads, remembered per SQL text and grammar version: the
 * grammar is loaded (and parses) only for SQL it has not seen. Undefined when it is not installed.
 */
function cachedTablesReader(cache: CheckCache): TablesReader | undefined {
  const grammar = installedVersion('node-sql-parser');
  if (grammar === undefined) return undefined;
  let parser: TableLister | undefined;
  return (sql, defaultDatabase) => {
    const key = cacheKey('trino-tables', { sql, defaultDatabase, grammar });
    let found = cache.get<{ tables: string[] } | { error: string }>(key);
    if (found === undefined) {
      const grammarModule = require('../../project/deploy-warnings') as typeof import('../../project/deploy-warnings');
      parser ??= grammarModule.trinoParser();
      if (!parser) throw new Error('node-sql-parser is installed but cannot be loaded');
      try {
        found = { tables: grammarModule.tablesRead(sql, parser, defaultDatabase) };
      } catch (error) {
        found = { error: error instanceof Error ? error.message : String(error) };
      }
      cache.set(key, found);
    }
    if ('error' in found) throw new Error(found.error);
    return found.tables;
  };
}

const consumers = (project: Project) => (require('../../semantic/metric-usage') as typeof import('../../semantic/metric-usage')).metricConsumers(project.feeds);

function impactReport(project: Project, metric: string, json: boolean): number {
  const layer = project.semantic;
  if (!layer)
    throw new UsageError(`--impact needs a semantic layer, and ${project.spec.name} has none: put dbt semantic_models/metrics YAML in its semantic/ folder`);
  if (!layer.metrics.has(metric)) throw new UsageError(`--impact ${metric}: no such metric; the metrics are ${[...layer.metrics.keys()].sort().join(', ')}`);
  const { metricUsage } = require('../../semantic/metric-usage') as typeof import('../../semantic/metric-usage');
  const feeds = metricUsage(layer, consumers(project)).get(metric) ?? [];
  if (json) {
    process.stdout.write(JSON.stringify({ metric, feeds }, null, 2) + '\n');
    return EXIT.ok;
  }
  const lines = feeds.length
    ? [
        `${feeds.length} feed${feeds.length === 1 ? '' : 's'} would change if ${metric} changed:`,
        ...feeds.map((f) => `  ${f.feed}${f.via === metric ? '' : `  (through ${f.via})`}`),
      ]
    : [`no feed serves ${metric}: changing it changes no drop`];
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}

function local(at: Date, tz: string): string {
  return DateTime.fromJSDate(at, { zone: tz }).toFormat('yyyy-MM-dd HH:mm ZZZZ');
}

/**
 * Feeds whose newest drop was made under another cron or time zone than the feed file now says.
 * Its slots stay in the store and in history; the warning says so, and what the new schedule owes.
 */
async function scheduleChanges(project: Findings): Promise<{ feed: string; message: string }[]> {
  const store = new LocalStore(project.outputDir);
  const out: { feed: string; message: string }[] = [];
  for (const feed of project.feeds) {
    const { cron, timezone } = feed;
    for (const partner of feed.deliveryPartners) {
      const key = latestKey({ prefix: project.prefix, feed: feed.name, partner });
      const pointer = await store.get(key).catch(() => undefined);
      if (!pointer) continue;
      // Loaded only for a feed that has drops: building the manifest's schema is not free.
      const { latestPointerSchema, manifestSchema } = require('../../core/manifest-schema') as typeof import('../../core/manifest-schema');
      const { manifest: rel } = parseStoreJson(key, pointer.body, latestPointerSchema);
      const mKey = latestBase(key) + rel;
      const got = await store.get(mKey).catch(() => undefined);
      if (!got) continue;
      const m = parseStoreJson(mKey, got.body, manifestSchema);
      if (m.slot.cron === cron && m.slot.timezone === timezone) continue;
      out.push({
        feed: feed.name,
        message:
          `${feed.file}: schedule changed from "${m.slot.cron}" in ${m.slot.timezone} (the latest drop, slot ${m.slot.id}) to "${cron}" in ${timezone}. ` +
          `Drops of the old schedule stay in the store and in history; set start: to the date the new schedule begins, or its earlier slots show as MISSED`,
      });
      break;
    }
  }
  return out;
}
