import { DateTime } from 'luxon';
import { parseCron } from '../../core/cron';
import { deadlineFor } from '../../core/sla';
import { nextSlot } from '../../core/slots';
import { ConfigError, UsageError } from '../../core/errors';
import { deployWarnings, tablesRead, type TableLister, type TablesReader, trinoParser } from '../../project/deploy-warnings';
import { loadProject, Project } from '../../project/load-project';
import { metricConsumers, metricUsage, unusedMetrics } from '../../semantic/metric-usage';
import { LocalStore } from '../../adapters/local/local-store';
import { deliveryPartners } from '../../core/feed/feed-definition';
import { latestBase, latestKey } from '../../core/layout';
import { compileFeedSql } from '../compile-sql';
import { cacheKey, CheckCache, installedVersion } from '../check-cache';
import { parseCommandArgs, parseTimeArg, projectOption } from '../args';
import { EXIT } from '../exit-codes';
import { parseStoreJson } from '../../core/store-json';
import { latestPointerSchema, manifestSchema } from '../../core/manifest-schema';

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
  const project = loadProject(values.project);
  if (values.impact !== undefined) return impactReport(project, values.impact, values.json);
  const now = values.now ? parseTimeArg('--now', values.now) : new Date();
  // Broken SQL fails here, with file:line:column, not in the first run.
  const cache = values['no-cache'] ? CheckCache.disabled() : CheckCache.open(project.dir);
  const compiled = await compileFeedSql(project, now, { cache });
  if (compiled.problems.length > 0) {
    cache.save();
    throw new ConfigError(compiled.problems);
  }
  const changed = await scheduleChanges(project);
  const feeds = project.feeds.map((feed) => {
    const { schedule, sla } = feed.spec;
    const cron = parseCron(schedule.cron);
    const slots: { slot: string; local: string; deadline: string; deadlineLocal: string }[] = [];
    let at = now;
    for (let i = 0; i < SLOTS_SHOWN; i++) {
      at = nextSlot(cron, schedule.timezone, at);
      const deadline = deadlineFor(sla, at, schedule.timezone);
      slots.push({
        slot: at.toISOString(),
        local: local(at, schedule.timezone),
        deadline: deadline.toISOString(),
        deadlineLocal: local(deadline, schedule.timezone),
      });
    }
    return {
      name: feed.spec.name,
      file: feed.file,
      cron: schedule.cron,
      timezone: schedule.timezone,
      eventBridge: feed.eventBridgeCron,
      delivery: feed.spec.delivery,
      partners: feed.spec.partners.map((p) => p.id),
      formats: Object.keys(feed.spec.formats),
      checks: feed.spec.checks.length,
      nextSlots: slots,
      warnings: changed.filter((w) => w.feed === feed.spec.name).map((w) => w.message),
      columns: compiled.feeds.find((c) => c.feed === feed.spec.name)?.columns ?? [],
    };
  });
  const semantic = project.semantic ? { metrics: project.semantic.metrics.size, unused: unusedMetrics(project.semantic, consumers(project)) } : undefined;
  // What would fail only once deployed: tables the roles are not granted, types Athena cannot stage.
  const parser = cachedTablesReader(cache);
  const warnings = deployWarnings(project.feeds, project.spec.aws, parser);
  cache.save();
  if (values.json) {
    process.stdout.write(JSON.stringify({ status: 'valid', project: project.spec.name, feeds, warnings, ...(semantic ? { semantic } : {}) }, null, 2) + '\n');
    return EXIT.ok;
  }
  const out: string[] = [`✓ ${project.spec.name}: ${feeds.length} feed${feeds.length === 1 ? '' : 's'} valid`];
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
  if (!parser) out.push('', 'note: install node-sql-parser to check which tables the feeds read on AWS against the aws: section');
  process.stdout.write(out.join('\n') + '\n');
  return EXIT.ok;
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
      parser ??= trinoParser();
      if (!parser) throw new Error('node-sql-parser is installed but cannot be loaded');
      try {
        found = { tables: tablesRead(sql, parser, defaultDatabase) };
      } catch (error) {
        found = { error: error instanceof Error ? error.message : String(error) };
      }
      cache.set(key, found);
    }
    if ('error' in found) throw new Error(found.error);
    return found.tables;
  };
}

const consumers = (project: Project) => metricConsumers(project.feeds);

function impactReport(project: Project, metric: string, json: boolean): number {
  const layer = project.semantic;
  if (!layer)
    throw new UsageError(`--impact needs a semantic layer, and ${project.spec.name} has none: put dbt semantic_models/metrics YAML in its semantic/ folder`);
  if (!layer.metrics.has(metric)) throw new UsageError(`--impact ${metric}: no such metric; the metrics are ${[...layer.metrics.keys()].sort().join(', ')}`);
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
async function scheduleChanges(project: Project): Promise<{ feed: string; message: string }[]> {
  const store = new LocalStore(project.outputDir);
  const out: { feed: string; message: string }[] = [];
  for (const feed of project.feeds) {
    const { cron, timezone } = feed.spec.schedule;
    for (const partner of deliveryPartners(feed)) {
      const key = latestKey({ prefix: project.spec.prefix, feed: feed.spec.name, partner });
      const pointer = await store.get(key).catch(() => undefined);
      if (!pointer) continue;
      const { manifest: rel } = parseStoreJson(key, pointer.body, latestPointerSchema);
      const mKey = latestBase(key) + rel;
      const got = await store.get(mKey).catch(() => undefined);
      if (!got) continue;
      const m = parseStoreJson(mKey, got.body, manifestSchema);
      if (m.slot.cron === cron && m.slot.timezone === timezone) continue;
      out.push({
        feed: feed.spec.name,
        message:
          `${feed.file}: schedule changed from "${m.slot.cron}" in ${m.slot.timezone} (the latest drop, slot ${m.slot.id}) to "${cron}" in ${timezone}. ` +
          `Drops of the old schedule stay in the store and in history; set start: to the date the new schedule begins, or its earlier slots show as MISSED`,
      });
      break;
    }
  }
  return out;
}
