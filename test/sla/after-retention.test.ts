import { deliveryRecord } from '../../lib/core/sla-watch/delivery-record';
import { slaWatch } from '../../lib/core/sla-watch/sla-watch';
import { fixedClock } from '../../lib/core/ports/clock';
import { loadProject } from '../../lib/project/load-project';
import { listKeys } from '../helpers/local-run';
import { baseProject, BaseProject, localStoreOf, NOW, runIn, SLOT_16 } from '../helpers/protocol-fixture';
import { RecordingNotifier } from './sla-fixtures';

/** Issue 14 item 5: after retention removed a drop, its slot still reads as delivered, and nobody hears of a delay. */
describe('the delivery record outlives retention', () => {
  let base: BaseProject;
  beforeAll(async () => {
    base = await baseProject(); // retention 1 day; slot 14 delivered on time on 2024-01-14 07:00
  });
  afterAll(() => base.cleanup());

  it('a slot whose drop retention removed reads as delivered (MET, when, rows) in the record and the watch, and no data.delay goes out', async () => {
    const dir = base.copy();
    const local = localStoreOf(dir);
    expect((await runIn(dir, { slot: SLOT_16 })).status).toBe('delivered');
    expect(await listKeys(local, 'daily/slot=20240114T060000Z/')).toEqual([]); // removed by retention

    const feed = loadProject(dir).feeds[0].spec;
    const at = '2024-01-16T12:00:00Z';
    const record = await deliveryRecord({ feed, prefix: '', from: new Date('2024-01-14T00:00:00Z'), to: new Date(at), now: new Date(at) }, local);
    expect(record.map((s) => [s.slot, s.state, s.deliveredAt, s.rowCount, s.revision])).toEqual([
      ['20240114T060000Z', 'MET', '2024-01-14T07:00:00.000Z', 1, 1],
      ['20240115T060000Z', 'MISSED', null, null, null],
      ['20240116T060000Z', 'MET', NOW.replace('Z', '.000Z'), 3, 1],
    ]);
    expect(record[0].detail).toBe('delivered on time; the drop has since been removed by retention');

    const partner = new RecordingNotifier('partner');
    const ops = new RecordingNotifier('ops');
    const out = await slaWatch(
      { feeds: [feed], lookBack: 'P3D', at },
      { store: local, clock: fixedClock(at), notifiers: { consumers: () => [partner], operators: [ops] } },
    );
    expect(out.slots.map((s) => [s.slot, s.state])).toEqual([
      ['20240114T060000Z', 'MET'],
      ['20240115T060000Z', 'MISSED'],
      ['20240116T060000Z', 'MET'],
    ]);
    // The only delay told is the slot that really was never delivered.
    expect(partner.events.map((e) => e.id)).toEqual(['sla:daily:-:20240115T060000Z:data.delay.missed']);
  });
});
