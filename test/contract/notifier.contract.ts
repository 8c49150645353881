import type { DropEvent, Notifier } from '../../lib/core/ports/notifier';

/** A notifier under contract, with a way to see what its consumer got and to break its target. */
export interface NotifierUnderContract {
  readonly notifier: Notifier;
  /** The event ids the consumer received, in order. */
  received(): Promise<string[]>;
  /** Makes the target fail from now on (an endpoint down, a write that throws). */
  breakTarget(): void;
  cleanup(): Promise<void>;
}

export const CONTRACT_EVENT: DropEvent = {
  type: 'drop.delivered',
  id: 'run-contract',
  feed: 'daily',
  partner: 'acme',
  runId: 'run-contract',
  revision: 1,
  slot: '20240115T060000Z',
  occurredAt: '2024-01-15T07:00:00.000Z',
  manifest: {
    key: 'daily/partner=acme/slot=20240115T060000Z/run=run-contract/manifest.json',
    link: { url: 'https://example.invalid/m', expiresAt: '2024-01-15T08:00:00.000Z' },
  },
  files: [
    {
      path: 'part-00000.csv',
      format: 'csv',
      rows: 3,
      bytes: 42,
      sha256: 'a'.repeat(64),
      link: { url: 'https://example.invalid/f', expiresAt: '2024-01-15T08:00:00.000Z' },
    },
  ],
  sla: { expectedBy: '2024-01-15T08:00:00.000Z', deliveredAt: '2024-01-15T07:00:00.000Z', status: 'MET' },
  rowCount: 3,
};

/**
 * The Notifier contract: what the steps rely on, whatever the target. Run over every notifier:
 * outbox, console, webhook, SNS, EventBridge.
 */
export function notifierContract(name: string, open: () => Promise<NotifierUnderContract>) {
  describe(`${name} (Notifier contract)`, () => {
    let under: NotifierUnderContract;
    beforeEach(async () => {
      under = await open();
    });
    afterEach(async () => under.cleanup());

    it('delivers the event and reports it sent, naming its target', async () => {
      const outcome = await under.notifier.notify(CONTRACT_EVENT);
      expect(outcome).toMatchObject({ status: 'sent', target: under.notifier.target });
      expect(outcome.attempts).toBeGreaterThanOrEqual(1);
      expect(await under.received()).toEqual(['run-contract']);
    });

    it('sends the same event again with the same idempotency key', async () => {
      await under.notifier.notify(CONTRACT_EVENT);
      await under.notifier.notify(CONTRACT_EVENT);
      expect(await under.received()).toEqual(['run-contract', 'run-contract']);
    });

    it('reports a target that fails as failed, and never throws', async () => {
      under.breakTarget();
      const outcome = await under.notifier.notify({ ...CONTRACT_EVENT, id: 'run-broken' });
      expect(outcome.status).toBe('failed');
      expect(outcome.detail).toEqual(expect.any(String));
      expect(await under.received()).not.toContain('run-broken');
    });
  });
}
