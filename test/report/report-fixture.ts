import { join } from 'node:path';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { dropkit } from '../helpers/cli';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';
import { manifestFor, putManifest, putRun, runRecordFor } from '../sla/sla-fixtures';

export const REPORT_AT = '2024-01-16T12:00:00Z';

/** The daily feed with a description that must be escaped, a declared schema check and a partner. */
export const REPORT_FEED = dailyFeed(
  'daily',
  `  - type: schema
    severity: warn
    allowExtra: true
    columns:
      - { name: id, type: INTEGER }
      - { name: amount, type: "DECIMAL(10,2)" }
partners:
  - id: acme
    name: Acme <Corp> & "Sons"
`,
).replace('description: test feed', `description: "Orders <script>window.injected = 1</script> & refunds"`);

/**
 * Seven days of record at 2024-01-16T12:00Z (window from 2024-01-09T12:00Z): 10th MET, 11th LATE
 * 45 min, 12th MISSED, 13th LATE 30 min (rerun as r2), 14th FAILED (validation), 15th MET by a
 * real run (so latest.json and a real schema exist), 16th MISSED.
 */
export async function reportProject(): Promise<TempProject> {
  const p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': REPORT_FEED, 'feeds/daily.sql': DAILY_SQL });
  await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
  const store = new LocalStore(join(p.dir, 'out'));
  const at = (d: number, hm: string) => `2024-01-${d}T${hm}:00.000Z`;
  const drop = (d: number, delivered: string, revision = 1) =>
    manifestFor({
      slot: `202401${d}T060000Z`,
      scheduledFor: at(d, '06:00'),
      expectedBy: at(d, '08:00'),
      deliveredAt: at(d, delivered),
      revision,
      rowCount: 2 + revision,
    });
  await putManifest(store, drop(10, '07:10'));
  await putManifest(store, drop(11, '08:45'));
  await putManifest(store, drop(13, '08:30'));
  await putManifest(store, drop(13, '11:00', 2));
  await putRun(store, runRecordFor({ slot: '20240114T060000Z', status: 'validation-failed', startedAt: at(14, '06:01'), message: 'check unique(id) failed' }));
  const run = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z']);
  if (run.code !== 0) throw new Error(`run failed: ${run.stderr}`);
  return p;
}
