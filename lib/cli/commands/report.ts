import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../../core/errors';
import { loadProject } from '../../project/load-project';
import { metricCards, metricConsumers } from '../../semantic/metric-usage';
import { feedPagePath, renderFeedPage, renderIndex } from '../../report/pages';
import { buildReportData } from '../../report/report-data';
import { parseCommandArgs, parseTimeArg, projectOption } from '../args';
import { EXIT } from '../exit-codes';
import { localContext } from '../local-context';

export { REPORT_USAGE } from '../help';

/**
 * `dropkit report`: writes the catalogue and delivery record as a static site (index.html, one
 * page per feed, data.json) into --out (default: `_report/` in the store, so it can be served from
 * the bucket beside the drops). Manifest links are relative, so they work from file:// too.
 */
export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('report', args, {
    ...projectOption,
    out: { type: 'string' },
    store: { type: 'string' },
    days: { type: 'string', default: '30' },
    at: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new UsageError(`dropkit report takes no feed name (got ${positionals.join(' ')}); it covers every feed`);
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3660) throw new UsageError(`--days ${values.days} is not a whole number of days between 1 and 3660`);
  const project = loadProject(values.project);
  const at = values.at ? parseTimeArg('--at', values.at) : undefined;
  const { store, storeRoot, clock } = localContext(project, { out: values.store, now: at?.toISOString(), console: false });
  const outDir = resolve(values.out ?? join(storeRoot, '_report'));
  const data = await buildReportData(
    {
      project: project.spec.name,
      feeds: project.feeds.map((f) => f.spec),
      prefix: project.spec.prefix,
      exceptDates: project.spec.calendar?.exceptDates ?? [],
      now: clock.now(),
      days,
      ...(project.semantic ? { metrics: metricCards(project.semantic, metricConsumers(project.feeds)) } : {}),
    },
    store,
  );
  mkdirSync(join(outDir, 'feeds'), { recursive: true });
  const storeBase = relative(join(outDir, 'feeds'), storeRoot).split(sep).join('/');
  const written = [join(outDir, 'index.html'), join(outDir, 'data.json')];
  writeFileSync(written[0], renderIndex(data));
  writeFileSync(written[1], JSON.stringify(data, null, 2) + '\n');
  for (const feed of data.feeds) {
    const file = join(outDir, feedPagePath(feed.name));
    writeFileSync(file, renderFeedPage(data, feed, { storeBase: storeBase ? `${storeBase}/` : '' }));
    written.push(file);
  }
  if (values.json) process.stdout.write(JSON.stringify({ status: 'ok', out: outDir, files: written }) + '\n');
  else process.stdout.write(`wrote ${written.length} files to ${outDir}; open ${join(outDir, 'index.html')}\n`);
  return EXIT.ok;
}
