import { deriveRunId } from '../../lib/core/run-id';
import { dropPrefix, latestKey, manifestKey, parseDropKey, runRecordKey, stagingPrefix } from '../../lib/core/layout';

describe('deriveRunId', () => {
  it('is the same for the same feed, partner, slot and revision, so a retry finds its own work', () => {
    expect(deriveRunId('daily', 'acme', '20240115T060000Z', 1)).toBe(deriveRunId('daily', 'acme', '20240115T060000Z', 1));
    expect(deriveRunId('daily', null, '20240115T060000Z', 1)).toMatch(/^20240115T060000Z-r1-[0-9a-f]{12}$/);
  });

  it('differs when any of feed, partner, slot or revision differs', () => {
    const base = deriveRunId('daily', 'acme', '20240115T060000Z', 1);
    const others = [
      deriveRunId('weekly', 'acme', '20240115T060000Z', 1),
      deriveRunId('daily', 'globex', '20240115T060000Z', 1),
      deriveRunId('daily', null, '20240115T060000Z', 1),
      deriveRunId('daily', 'acme', '20240116T060000Z', 1),
      deriveRunId('daily', 'acme', '20240115T060000Z', 2),
    ];
    expect(new Set([base, ...others]).size).toBe(6);
  });
});

describe('drop layout', () => {
  const shared = { prefix: '', feed: 'daily', partner: null };
  const perPartner = { prefix: 'exchange/v1', feed: 'statements', partner: 'acme' };

  it('places drops, manifests and the pointer as DESIGN.md lays them out', () => {
    expect(dropPrefix(shared, '20240115T060000Z', 'r')).toBe('daily/slot=20240115T060000Z/run=r/');
    expect(manifestKey(perPartner, '20240115T060000Z', 'r')).toBe('exchange/v1/statements/partner=acme/slot=20240115T060000Z/run=r/manifest.json');
    expect(latestKey(perPartner)).toBe('exchange/v1/statements/partner=acme/latest.json');
  });

  it('keeps run records and staging apart from the drops, and reads slot and run back from a key', () => {
    expect(runRecordKey(perPartner, '20240115T060000Z', 'r')).toBe('exchange/v1/_runs/statements/partner=acme/slot=20240115T060000Z/r.json');
    expect(stagingPrefix('', 'r', 'a1')).toBe('_staging/r/a1/');
    expect(parseDropKey('daily/slot=20240115T060000Z/run=r1/manifest.json')).toEqual({ slotId: '20240115T060000Z', runId: 'r1' });
    expect(parseDropKey('daily/latest.json')).toBeUndefined();
  });
});
