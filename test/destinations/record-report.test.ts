import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM, launchChromium } from '../helpers/chromium';
import { BIN, dropkit } from '../helpers/cli';
import { DAILY_SQL, dailyFeed, eventsSelect, PROJECT_YAML, tempProject, type TempProject, writeParquet } from '../helpers/temp-project';

jest.setTimeout(60_000);

const FEED = dailyFeed(
  'daily',
  `destinations:
  - { type: local, name: inbox, path: inbox }
  - { type: local, name: blocked, path: blocked, sync: upsert, primaryKey: [id] }
`,
).replace('deliverWithin: PT2H', 'deliverWithin: PT2H\n  deliveredWhen: destinations');

/** Issue 21: the report shows each destination of a feed and how the newest push went, in Chromium. */
describe('the report of a feed with destinations', () => {
  let p: TempProject;
  let site: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': FEED, 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    writeFileSync(join(p.dir, 'blocked'), 'a file where the folder should be');
    const run = await dropkit(['run', 'daily', '--project', p.dir, '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z', '--json']);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'delivered' });
    const r = await dropkit(['report', '--project', p.dir, '--at', '2024-01-15T07:30:00Z', '--days', '1', '--json']);
    expect(r.code).toBe(0);
    site = JSON.parse(r.stdout).out;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    p?.cleanup();
  });

  it("lists each destination with the newest push's outcome, the failed one with its error and the fix, and the slot at risk for it", async () => {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    const delivery = await page.locator('table.catalogue tr[data-feed="daily"] td').nth(8).innerText();
    expect(delivery).toContain('pushed to inbox delivered, blocked failed');
    const wrong = page.locator('table.wrong tr[data-feed="daily"]');
    expect(await wrong.getAttribute('data-state')).toBe('AT_RISK');
    expect(await wrong.locator('td').nth(3).innerText()).toBe('not at its destinations yet, due in 30 min');

    await page.goto(pathToFileURL(join(site, 'feeds', 'daily.html')).href);
    expect(await page.locator('table.about tr', { hasText: 'SLA' }).locator('td').innerText()).toBe(
      'within 2 h of the slot, missed at the deadline; delivered when every destination has the drop',
    );
    const rows = page.locator('table.destinations tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-destination'), tr.getAttribute('data-status')]))).toEqual([
      ['inbox', 'delivered'],
      ['blocked', 'failed'],
    ]);
    const inbox = await rows.nth(0).locator('td').allInnerTexts();
    expect(inbox.slice(0, 3)).toEqual(['–', 'inbox\nlocal · folder inbox', 'full']);
    expect(inbox[3]).toBe('DELIVERED 3 files');
    expect(inbox.slice(4)).toEqual(['2024-01-15 07:00 UTC', '20240115T060000Z']);
    const blocked = await rows.nth(1).locator('td').allInnerTexts();
    expect(blocked[2]).toBe('upsert');
    expect(blocked[3]).toMatch(/^FAILED .*ENOTDIR.*\nfix it, then dropkit repair daily pushes again from where it stopped$/s);
    // The red of a failed push, not the green of a delivered one.
    const colour = (i: number) =>
      rows
        .nth(i)
        .locator('.badge')
        .evaluate((b) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(b).backgroundColor);
    expect(await colour(1)).toBe('rgb(207, 34, 46)');
    expect(await colour(0)).toBe('rgb(26, 127, 55)');
    const problem = await page.locator('table.problems tbody tr').first().innerText();
    expect(problem).toMatch(/AT RISK.*destination blocked failed/s);
    await page.screenshot({ path: join(process.env.DROPKIT_SCREENSHOTS ?? p.dir, 'destinations.png'), fullPage: true });
    await page.close();
  });
});
