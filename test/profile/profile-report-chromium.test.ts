import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM, launchChromium } from '../helpers/chromium';
import { BIN, dropkit } from '../helpers/cli';
import { runFeed } from '../helpers/local-run';
import { tempProject, writeParquet, PROJECT_YAML, TempProject } from '../helpers/temp-project';

jest.setTimeout(90_000);

/** Screenshots go to $DROPKIT_SCREENSHOTS when set (to look at them), else into the temp project. */
const shots = (dir: string) => process.env.DROPKIT_SCREENSHOTS ?? dir;

const FEED = `name: orders
description: Orders with a profile
owner: tests@example.com
schedule:
  cron: "0 6 * * *"
  timezone: UTC
sla:
  deliverWithin: PT2H
formats:
  csv: {}
columns:
  email: { pii: true }
checks:
  - type: drift
    severity: warn
    maxNewCategories: 0
    maxNullFractionChange: 0.2
`;

/*
 * Three daily drops (14th, 15th, 16th); on the 16th amounts shift up, a status is new and half the
 * regions are NULL, so the drift table shows warnings; e-mails are PII.
 */
describe('the profile section of the report in headless Chromium', () => {
  let p: TempProject;
  let site: string;
  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    p = tempProject({
      'dropkit.yaml': PROJECT_YAML,
      'feeds/orders.yaml': FEED,
      'feeds/orders.sql': `SELECT id, amount, status, region, email, happened_at FROM events WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id`,
    });
    await writeParquet(
      join(p.dir, 'data/events.parquet'),
      `SELECT d * 1000 + i AS id,
              CAST(i * 1.25 + CASE WHEN d = 16 THEN 120 ELSE 0 END AS DECIMAL(10,2)) AS amount,
              CASE WHEN d = 16 AND i % 4 = 0 THEN 'refunded' ELSE ['new','paid','shipped'][i % 3 + 1] END AS status,
              CASE WHEN d = 16 AND i % 2 = 0 THEN NULL ELSE ['eu','us','apac'][i % 3 + 1] END AS region,
              'user' || i || '@mail.test' AS email,
              TIMESTAMP '2024-01-01 07:00:00' + INTERVAL (d - 1) DAY + INTERVAL (i) MINUTE AS happened_at
       FROM range(14, 17) a(d), range(0, 300) b(i)`,
    );
    for (const day of [15, 16, 17]) {
      const { outcome } = await runFeed(p.dir, 'orders', { slot: `2024-01-${day}T06:00:00Z`, now: '2024-01-18T00:00:00Z' });
      expect(outcome.status).toBe('delivered');
    }
    const r = await dropkit(['report', '--project', p.dir, '--at', '2024-01-18T00:00:00Z', '--days', '7', '--json']);
    expect(r.code).toBe(0);
    site = JSON.parse(r.stdout).out;
  });
  afterAll(() => p?.cleanup());

  it('shows column profiles as charts, drift per drop and a sample with PII redacted', async () => {
    const html = readFileSync(join(site, 'feeds/orders.html'), 'utf8');
    // No PII value anywhere in the page, not even in a tooltip.
    expect(html).not.toContain('@mail.test');
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(pathToFileURL(join(site, 'feeds/orders.html')).href);
      const section = page.locator('#profile');
      await expect(section.locator('h2').allInnerTexts()).resolves.toEqual(['Column profiles', 'Drift over time', 'Sample of the latest drop']);

      // A card per column; amount has a decile chart, status value bars, all a NULL bar and trends.
      const cards = section.locator('.col-card');
      await expect(cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-column')))).resolves.toEqual([
        'id',
        'amount',
        'status',
        'region',
        'email',
        'happened_at',
      ]);
      const amount = section.locator('.col-card[data-column="amount"]');
      await expect(amount.locator('svg.dist title').textContent()).resolves.toMatch(/^min 120 · p10 [\d.]+ · median [\d.]+ · p90 [\d.]+ · max 493.75$/);
      await expect(amount.locator('.spark').count()).resolves.toBe(2);
      const status = section.locator('.col-card[data-column="status"] .bar');
      await expect(status.evaluateAll((els) => els.map((e) => e.getAttribute('data-value')))).resolves.toEqual(['new', 'paid', 'refunded', 'shipped']); // 75 each: by value
      await expect(section.locator('.col-card[data-column="region"] .col-head').innerText()).resolves.toContain('50% NULL');
      await expect(section.locator('.col-card[data-column="email"] .bars').count()).resolves.toBe(0);
      // The bars have width: the chart is drawn, not just present.
      const box = await section.locator('.col-card[data-column="status"] .bar .track i').first().boundingBox();
      expect(box!.width).toBeGreaterThan(50);

      // Drift over time: one row per drop; the first has nothing to compare, the last warns.
      const rows = section.locator('table.drift tbody tr');
      await expect(rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-slot')))).resolves.toEqual([
        '20240115T060000Z',
        '20240116T060000Z',
        '20240117T060000Z',
      ]);
      const header = await section.locator('table.drift thead th').allInnerTexts();
      const col = (name: string) => header.indexOf(name);
      const last = rows.nth(2).locator('td');
      await expect(last.nth(col('drift(status)')).getAttribute('class')).resolves.toBe('o-warn');
      await expect(last.nth(col('drift(status)')).innerText()).resolves.toContain('+1 values');
      await expect(last.nth(col('drift(region)')).innerText()).resolves.toContain('NULL +0.5');
      await expect(last.nth(col('drift(amount)')).getAttribute('class')).resolves.toBe('o-warn');
      await expect(rows.nth(0).locator('td').nth(col('drift(amount)')).innerText()).resolves.toBe('first');

      // Sample: the first rows of the latest drop, e-mails redacted.
      const preview = section.locator('table.preview');
      await expect(preview.locator('thead th').allInnerTexts()).resolves.toEqual(['id', 'amount', 'status', 'region', 'email', 'happened_at']);
      await expect(preview.locator('tbody tr').count()).resolves.toBe(10);
      await expect(preview.locator('tbody tr').first().locator('td').allInnerTexts()).resolves.toEqual([
        '16000',
        '120.00',
        'refunded',
        'NULL',
        '▒▒▒ pii',
        '2024-01-16T07:00:00Z',
      ]);
      await expect(section.locator('td.redacted').count()).resolves.toBe(10);
      await section.screenshot({ path: join(shots(p.dir), 'profile-section.png') });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
