import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../helpers/chromium';
import { BIN, dropkit } from '../helpers/cli';
import { serveFolder } from '../helpers/static-server';
import type { TempProject } from '../helpers/temp-project';
import { REPORT_AT, reportProject } from './report-fixture';

jest.setTimeout(60_000);

/** Screenshots go to $DROPKIT_SCREENSHOTS when set (to look at them), else into the temp project. */
const shots = (dir: string) => process.env.DROPKIT_SCREENSHOTS ?? dir;

/** Every failed request, console error and page error of a page, collected as it loads. */
function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} ${r.url()}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => problems.push(`dialog: ${d.message()}`));
  return problems;
}

describe('the report in headless Chromium', () => {
  let p: TempProject;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let site: string;

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    p = await reportProject();
    const r = await dropkit(['report', '--project', p.dir, '--at', REPORT_AT, '--days', '7', '--json']);
    expect(r.code).toBe(0);
    site = JSON.parse(r.stdout).out;
    expect(site).toBe(join(p.dir, 'out', '_report'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    p?.cleanup();
  });

  it('opens the catalogue from file:// with the feed as a data product and its current state', async () => {
    const page = await browser.context.newPage();
    const problems = watchPage(page);
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    const row = page.locator('tr[data-feed="daily"]');
    await expect(row.locator('td').nth(0).innerText()).resolves.toContain('Orders <script>window.injected = 1</script> & refunds');
    expect(await page.evaluate(() => (globalThis as unknown as { injected?: number }).injected)).toBeUndefined();
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[1]).toBe('tests@example.com');
    expect(cells[2]).toBe('every day at 06:00\nUTC · 0 6 * * *');
    expect(cells[3]).toBe('within 2 h of the slot, missed at the deadline');
    expect(cells[4]).toBe('csv, parquet');
    expect(cells[5]).toContain('Acme <Corp> & "Sons"');
    expect(cells[6]).toMatch(/^MISSED\n20240116T060000Z: not delivered/);
    await page.screenshot({ path: join(shots(p.dir), 'index.png'), fullPage: true });
    await row.locator('a').first().click();
    await page.waitForURL(/feeds\/daily\.html$/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('draws the lateness chart with one bar per slot, the right counts and the missed slots visible', async () => {
    const page = await browser.context.newPage();
    const problems = watchPage(page);
    await page.goto(pathToFileURL(join(site, 'feeds', 'daily.html')).href);
    const bars = page.locator('svg.chart rect.bar');
    expect(await bars.count()).toBe(7);
    expect(await bars.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-slot')} ${e.getAttribute('data-state')}`))).toEqual([
      '20240110T060000Z MET',
      '20240111T060000Z LATE',
      '20240112T060000Z MISSED',
      '20240113T060000Z LATE',
      '20240114T060000Z FAILED',
      '20240115T060000Z MET',
      '20240116T060000Z MISSED',
    ]);
    // Drawn: a missed bar is on screen, full height, and taller than the 45-minute LATE bar, itself taller than the 30-minute one.
    const box = async (slot: string) => (await page.locator(`rect.bar[data-slot="${slot}"]`).boundingBox())!;
    const [missed, late45, late30, met] = await Promise.all(['20240112T060000Z', '20240111T060000Z', '20240113T060000Z', '20240110T060000Z'].map(box));
    expect(missed.height).toBeGreaterThan(100);
    expect(missed.height).toBeGreaterThan(late45.height);
    expect(late45.height).toBeGreaterThan(late30.height);
    expect(late30.height).toBeGreaterThan(met.height);
    await expect(page.locator('rect.bar[data-state="MISSED"]').first().isVisible()).resolves.toBe(true);
    const fill = await page
      .locator('rect.bar[data-state="MISSED"]')
      .first()
      .evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(e).fill);
    expect(fill).toBe('rgb(207, 34, 46)');
    const counts = await page.locator('.count').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-count')} ${e.querySelector('b')!.textContent}`));
    expect(counts).toEqual(['MET 2', 'LATE 2', 'MISSED 2', 'FAILED 1']);
    // A click on a bar says what happened (the inline script runs).
    await page.locator('rect.bar[data-slot="20240114T060000Z"]').click();
    await expect(page.locator('#bar-detail').innerText()).resolves.toBe('20240114T060000Z: FAILED. validation failed: check unique(id) failed');
    const missedRows = await page.locator('table.problems tr[data-state="MISSED"] td:first-child').allInnerTexts();
    expect(missedRows).toEqual(['20240116T060000Z', '20240112T060000Z']);
    await page.screenshot({ path: join(shots(p.dir), 'feed.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the schema of the latest drop, the declared schema check and the checks', async () => {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(join(site, 'feeds', 'daily.html')).href);
    const latest = await page.locator('table.schema tbody tr').evaluateAll((rows) =>
      rows.map((r) =>
        [...r.querySelectorAll('td')]
          .slice(1, 3)
          .map((c) => c.textContent)
          .join(' '),
      ),
    );
    expect(latest).toEqual(['id INTEGER', 'label VARCHAR', 'amount DECIMAL(10,2)', 'happened_at TIMESTAMP']);
    expect(await page.locator('table.schema-check tbody tr').allInnerTexts()).toEqual(['id\tINTEGER', 'amount\tDECIMAL(10,2)']);
    expect(await page.locator('table.checks tbody td:nth-child(2)').allInnerTexts()).toEqual(['row_count', 'unique', 'schema']);
    await page.close();
  });

  it('links every listed drop to its manifest, which exists beside the report', async () => {
    const page = await browser.context.newPage();
    const url = pathToFileURL(join(site, 'feeds', 'daily.html')).href;
    await page.goto(url);
    const hrefs = await page.locator('table.drops a.manifest').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    expect(hrefs).toHaveLength(4);
    for (const href of hrefs) {
      expect(href).toMatch(/^\.\.\/\.\.\/daily\/slot=\d{8}T060000Z\/run=[^/]+\/manifest\.json$/);
      const file = fileURLToPath(new URL(href, url));
      expect(JSON.parse(readFileSync(file, 'utf8')).feed).toBe('daily');
    }
    await page.close();
  });

  it('works from a bucket-like web server too: every request succeeds, manifests included', async () => {
    const server = await serveFolder(join(p.dir, 'out'));
    try {
      const page = await browser.context.newPage();
      const problems = watchPage(page);
      await page.goto(`${server.url}/_report/index.html`);
      await page.locator('tr[data-feed="daily"] a').first().click();
      await page.waitForURL(/\/_report\/feeds\/daily\.html$/);
      await expect(page.locator('rect.bar').count()).resolves.toBe(7);
      const manifest = await page.locator('table.drops a.manifest').first().getAttribute('href');
      // The report pages asked for nothing but pages: no fonts, scripts, images or icons from anywhere.
      // (Taken before opening the manifest: Chromium asks any bare JSON page's server for /favicon.ico.)
      expect(server.requests.filter((r) => !r.endsWith('.html'))).toEqual([]);
      const response = await page.goto(new URL(manifest!, page.url()).href);
      expect(response?.status()).toBe(200);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  });
});
