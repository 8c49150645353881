import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { outboxEvents } from '../helpers/protocol-audit';
import { baseProject, BaseProject, localStoreOf, plainFeed, runIn } from '../helpers/protocol-fixture';
import { writeParquet } from '../helpers/temp-project';

/** Issue 14 item 6: what a feed's SQL can read of the store. */
describe("feed SQL cannot read another run's staged rows", () => {
  let base: BaseProject;
  beforeAll(async () => {
    base = await baseProject({ feed: plainFeed(1), deliverSlot14: false });
  });
  afterAll(() => base.cleanup());

  it("a query over _staging/*/*/staged.parquet fails at stage while another run's staged rows are there, and delivers none of them", async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    // Another feed's run, mid-way: its staged rows are private.
    await writeParquet(local.localPath('_staging/other-r1-0123/attempt1/staged.parquet'), "SELECT 'private row of another feed' AS secret");
    const glob = local.localPath('_staging') + '/*/*/staged.parquet';
    writeFileSync(join(dir, 'feeds/daily.sql'), `SELECT * FROM read_parquet('${glob}')\n`);
    const outcome = await runIn(dir);
    expect(outcome).toMatchObject({ status: 'failed', error: { step: 'stage', message: expect.stringMatching(/Permission Error|not allowed|disabled/i) } });
    expect(outboxEvents(local).filter((e) => e.type === 'drop.delivered')).toEqual([]);
  });

  it('the attempt still reads its own staged rows and the declared sources (a normal run delivers)', async () => {
    const dir = base.copy();
    writeFileSync(join(dir, 'feeds/daily.sql'), 'SELECT * FROM events\n');
    expect((await runIn(dir)).status).toBe('delivered');
  });
});
