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
 * A per-partner feed of four partners, warned at 4 h and due 8 h after 06:00: on the 15th a, b and
 * c FAILED the unique check and d got its drop; on the 16th (AT_RISK at 12:00) only c has nothing.
 * Partner a's drop of the 10th came 1 d 21 h 43 min late: the longest axis label.
 */
export const BY_PARTNER_FEED = dailyFeed(
  'by_partner',
  `delivery: per-partner
partners:
  - { id: a }
  - { id: b }
  - { id: c }
  - { id: d }
`,
)
  .replace('deliverWithin: PT2H', 'deliverWithin: PT8H\n  warnAfter: PT4H')
  .replace('description: test feed', 'description: one drop per partner');
export const BY_PARTNER_SQL = DAILY_SQL.replace('ORDER BY id', 'AND label <> $partner_id ORDER BY id');

/** A quiet feed, first by name, delivered on time every day: it must sort below the broken ones. */
export const QUIET_FEED = dailyFeed('a_quiet').replace('description: test feed', 'description: always on time');

/**
 * Seven days of record at 2024-01-16T12:00Z (window from 2024-01-09T12:00Z): 10th MET, 11th LATE
 * 45 min, 12th MISSED, 13th LATE 30 min (rerun as r2), 14th FAILED (validation), 15th MET by a
 * real run (so latest.json and a real schema exist), 16th MISSED.
 */
export async function reportProject(): Promise<TempProject> {
  const p = tempProject({
    'dropkit.yaml': PROJECT_YAML,
    'feeds/daily.yaml': REPORT_FEED,
    'feeds/daily.sql': DAILY_SQL,
    'feeds/by_partner.yaml': BY_PARTNER_FEED,
    'feeds/by_partner.sql': BY_PARTNER_SQL,
    'feeds/a_quiet.yaml': QUIET_FEED,
    'feeds/a_quiet.sql': DAILY_SQL,
  });
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
  for (let d = 10; d <= 16; d++) {
    await putManifest(store, { ...drop(d, '07:00'), feed: 'a_quiet', runId: `a_quiet-${d}` });
    for (const partner of ['a', 'b', 'c', 'd']) {
      const m = (delivered: string, day = d) =>
        manifestFor({
          feed: 'by_partner',
          partner,
          slot: `202401${d}T060000Z`,
          scheduledFor: at(d, '06:00'),
          expectedBy: at(d, '14:00'),
          deliveredAt: at(day, delivered),
        });
      if (d === 15 && partner !== 'd') {
        const record = runRecordFor({
          feed: 'by_partner',
          partner,
          slot: '20240115T060000Z',
          status: 'validation-failed',
          startedAt: at(15, '06:01'),
          message: 'by_partner: 1 check failed, nothing was published:\n  - unique(id) [fail]: 2 rows repeat a key',
        });
        const failing = {
          name: 'unique(id)',
          type: 'unique',
          severity: 'error' as const,
          outcome: 'fail' as const,
          observed: 2,
          threshold: 0,
          message: '2 rows repeat a key',
        };
        await putRun(store, { ...record, validation: { status: 'fail', checks: [failing] } });
      } else if (d === 16 && partner === 'c') continue;
      else if (d === 10 && partner === 'a') await putManifest(store, m('11:43', 12));
      else await putManifest(store, m('07:00'));
    }
  }
  const run = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z']);
  if (run.code !== 0) throw new Error(`run failed: ${run.stderr}`);
  return p;
}
