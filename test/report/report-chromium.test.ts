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
    const row = page.locator('table.catalogue tr[data-feed="daily"]');
    await expect(row.locator('td').nth(0).innerText()).resolves.toContain('Orders <script>window.injected = 1</script> & refunds');
    expect(await page.evaluate(() => (globalThis as unknown as { injected?: number }).injected)).toBeUndefined();
    const cells = await row.locator('td').allInnerTexts();
    // The 14th FAILED and was never delivered: still open, so it outranks the newer MISSED 16th.
    expect(cells[1]).toBe('FAILED validation failed: check unique(id) failed; due 2 d 4 h 00 min ago · 20240114T060000Z (+2 more open)');
    expect(cells.slice(2, 7)).toEqual(['2', '2', '0', '2', '1']);
    expect(cells[7]).toBe('every day at 06:00\nUTC · 0 6 * * *\nwithin 2 h of the slot, missed at the deadline');
    expect(cells[8]).toContain('tests@example.com\ncsv, parquet · shared to Acme <Corp> & "Sons"');
    await page.screenshot({ path: join(shots(p.dir), 'index.png'), fullPage: true });
    await row.locator('a').first().click();
    await page.waitForURL(/feeds\/daily\.html$/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('answers "what is wrong now" first: every open problem of every partner, worst first, in words with the slot second', async () => {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    const wrong = await page
      .locator('table.wrong tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => (c as unknown as { innerText: string }).innerText).join(' | ')));
    expect(wrong).toEqual([
      'by_partner | a | FAILED | check unique(id) failed; nothing delivered, due 22 h 00 min ago | 20240115T060000Z',
      'by_partner | b | FAILED | check unique(id) failed; nothing delivered, due 22 h 00 min ago | 20240115T060000Z',
      'by_partner | c | FAILED | check unique(id) failed; nothing delivered, due 22 h 00 min ago | 20240115T060000Z',
      'daily | – | FAILED | validation failed: check unique(id) failed; due 2 d 4 h 00 min ago | 20240114T060000Z',
      'daily | – | MISSED | not delivered, due 4 h 00 min ago | 20240116T060000Z',
      'daily | – | MISSED | not delivered, due 4 d 4 h 00 min ago | 20240112T060000Z',
      'by_partner | c | AT RISK | not delivered yet, due in 2 h 00 min | 20240116T060000Z',
    ]);
    expect(await page.locator('[data-total]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-total')} ${e.textContent}`))).toEqual([
      'FAILED 4',
      'MISSED 2',
      'AT_RISK 1',
    ]);
    // Feeds sorted by their worst state: the quiet feed, first by name, comes last.
    expect(
      await page.locator('table.catalogue tbody tr').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-feed')} ${r.getAttribute('data-worst')}`)),
    ).toEqual(['by_partner FAILED', 'daily FAILED', 'a_quiet MET']);
    // Every partner's state, though the newest slot of a, b and d is MET.
    const partners = page.locator('table.catalogue tr[data-feed="by_partner"] ul.partners li');
    expect(await partners.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-partner')} ${e.getAttribute('data-state')}`))).toEqual([
      'a FAILED',
      'b FAILED',
      'c FAILED',
      'd MET',
    ]);
    await expect(partners.nth(2).innerText()).resolves.toContain('(+1 more open)');
    const counts = await page.locator('table.catalogue tr[data-feed="by_partner"] td[data-count]').allInnerTexts();
    expect(counts).toEqual(['23', '1', '1', '0', '3']);
    await page.close();
  });

  it('tells FAILED from MISSED by colour, hue and mark', async () => {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(join(site, 'feeds', 'daily.html')).href);
    const fillOf = (state: string) =>
      page
        .locator(`rect.bar[data-state="${state}"]`)
        .first()
        .evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(e).fill);
    const rgb = (css: string) => css.match(/\d+/g)!.map(Number);
    const [missed, failed] = [rgb(await fillOf('MISSED')), rgb(await fillOf('FAILED'))];
    // Far apart in colour, not two shades of red: the blue channel alone differs by more than 100.
    expect(Math.abs(missed[2] - failed[2])).toBeGreaterThan(100);
    const marks = await page.locator('svg.chart text').allTextContents();
    expect(marks.filter((t) => t === '✕')).toHaveLength(2);
    expect(marks.filter((t) => t === '!')).toHaveLength(1);
    await page.close();
  });

  it('draws one series per partner and never clips the axis label of the longest lateness', async () => {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(join(site, 'feeds', 'by_partner.html')).href);
    const charts = page.locator('svg.chart');
    expect(await charts.evaluateAll((els) => els.map((e) => e.getAttribute('data-partner')))).toEqual(['a', 'b', 'c', 'd']);
    expect(
      await charts
        .nth(0)
        .locator('rect.bar')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-state'))),
    ).toEqual(['LATE', 'MET', 'MET', 'MET', 'MET', 'FAILED', 'MET']);
    expect(await charts.nth(2).locator('rect.bar').last().getAttribute('data-state')).toBe('AT_RISK');
    const label = charts.nth(0).locator('text.max-late');
    await expect(label.textContent()).resolves.toBe('1 d 21 h 43 min');
    const [svgBox, labelBox] = [(await charts.nth(0).boundingBox())!, (await label.boundingBox())!];
    expect(labelBox.x).toBeGreaterThanOrEqual(svgBox.x);
    const counts = await page.locator('.count').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-count')} ${e.querySelector('b')!.textContent}`));
    expect(counts).toEqual(['MET 23', 'LATE 1', 'AT_RISK 1', 'MISSED 0', 'FAILED 3']);
    await page.screenshot({ path: join(shots(p.dir), 'by-partner.png'), fullPage: true });
    await page.close();
  });

  it('shows the latest result of each check, and a failed run names its check', async () => {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(join(site, 'feeds', 'daily.html')).href);
    const daily = await page
      .locator('table.check-results tbody tr')
      .evaluateAll((rows) => rows.map((r) => `${r.querySelector('td')!.firstChild!.textContent} ${r.getAttribute('data-outcome')}`));
    expect(daily).toEqual(['row_count pass', 'unique(id) pass', 'schema pass']);
    // Long observed values wrap: the page never scrolls sideways.
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement.scrollWidth <=
          (globalThis as unknown as { document: { documentElement: { clientWidth: number } } }).document.documentElement.clientWidth,
      ),
    ).toBe(true);
    await expect(page.locator('table.check-results tbody tr').first().locator('td').nth(2).innerText()).resolves.toBe('3');
    await page.goto(pathToFileURL(join(site, 'feeds', 'by_partner.html')).href);
    const failed = page.locator('table.check-results tbody tr');
    await expect(failed.count()).resolves.toBe(1);
    await expect(failed.first().innerText()).resolves.toMatch(/^unique\(id\)\nunique · error\tFAIL\t\t\t2 rows repeat a key\t20240115T060000Z c$/);
    const problem = await page.locator('table.problems tr[data-state="FAILED"]').first().innerText();
    expect(problem).toContain('validation failed: unique(id) failed: 2 rows repeat a key');
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
    expect(counts).toEqual(['MET 2', 'LATE 2', 'AT_RISK 0', 'MISSED 2', 'FAILED 1']);
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
      await page.locator('table.catalogue tr[data-feed="daily"] a').first().click();
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
