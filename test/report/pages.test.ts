import { esc, relativeHref } from '../../lib/report/html';
import { latenessChart } from '../../lib/report/lateness-chart';
import { renderFeedPage, renderIndex } from '../../lib/report/pages';
import type { FeedReport, ReportData, ReportSlot } from '../../lib/report/report-data';

const EVIL = `<img src=x onerror="alert(1)">&'`;

function slot(i: number, state: ReportSlot['state']): ReportSlot {
  const day = String(i + 1).padStart(2, '0');
  return {
    slot: `202401${day}T060000Z`,
    partner: null,
    scheduledFor: `2024-01-${day}T06:00:00.000Z`,
    expectedBy: `2024-01-${day}T08:00:00.000Z`,
    deliveredAt: null,
    state,
    latenessSeconds: null,
    rowCount: null,
    revision: null,
    detail: EVIL,
    manifest: null,
    failedChecks: [],
  };
}

const feed: FeedReport = {
  name: 'daily',
  description: EVIL,
  owner: EVIL,
  schedule: { cron: '0 6 * * *', timezone: 'UTC', words: 'every day at 06:00' },
  sla: 'within 2 h of the slot',
  formats: ['csv'],
  delivery: 'shared',
  partners: [{ id: 'acme', name: EVIL }],
  state: 'MISSED',
  stateDetail: EVIL,
  worst: 'MISSED',
  partnerStates: [{ partner: EVIL, state: 'MISSED', slot: slot(24, 'MISSED'), openProblems: 25 }],
  open: Array.from({ length: 25 }, (_, i) => slot(24 - i, 'MISSED')),
  counts: { MET: 0, LATE: 0, AT_RISK: 0, MISSED: 25, FAILED: 0 },
  slots: Array.from({ length: 25 }, (_, i) => slot(i, 'MISSED')),
  latestSchema: { slot: '20240101T060000Z', partner: null, columns: [{ name: EVIL, type: EVIL, nullable: true }] },
  schemaCheck: null,
  checks: [{ name: EVIL, type: 'custom_sql', severity: 'error', settings: EVIL }],
  latestResults: [
    { name: EVIL, type: 'custom_sql', severity: 'error', outcome: 'fail', observed: EVIL, threshold: EVIL, message: EVIL, slot: EVIL, partner: EVIL },
  ],
  drops: [{ ...slot(0, 'MET'), manifest: `daily/slot=20240101T060000Z/run=x"><script>/manifest.json` }],
};
const data: ReportData = {
  project: 'p',
  generatedAt: '2024-01-26T00:00:00.000Z',
  window: { from: '2024-01-01T00:00:00.000Z', to: '2024-01-26T00:00:00.000Z' },
  feeds: [feed],
};

describe('report pages (pure rendering)', () => {
  it('escape every text taken from feeds, drops and partners', () => {
    for (const html of [renderIndex(data), renderFeedPage(data, feed, { storeBase: '../../' })]) {
      expect(html).not.toContain('<img');
      expect(html).not.toMatch(/<script>(?!document|\n)/);
      expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;');
    }
  });

  it('percent-encode manifest links segment by segment, keeping the = of hive folders', () => {
    expect(relativeHref('../../', 'daily/slot=20240101T060000Z/run=x"><script>/manifest.json')).toBe(
      '../../daily/slot=20240101T060000Z/run=x%22%3E%3Cscript%3E/manifest.json',
    );
    expect(esc(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
  });

  it('list the newest 20 problem slots and say how many older ones there are', () => {
    const html = renderFeedPage(data, feed, { storeBase: '' });
    expect(html.match(/<tr data-state="MISSED">/g)).toHaveLength(20);
    expect(html).toContain('<code>20240125T060000Z</code>');
    expect(html).not.toContain('<code>20240105T060000Z</code>');
    expect(html).toContain('and 5 older');
  });

  it('draw an empty chart that says so when there are no slots', () => {
    const svg = latenessChart([]);
    expect(svg).toContain('no slots in this period');
    expect(svg).not.toContain('<rect');
  });
});
