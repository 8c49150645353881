import { createHash } from 'node:crypto';

/**
 * The run id is derived, not random: a retry of the same feed + partner + slot + revision gets the
 * same id and so finds its own earlier work (staging, run record), and a Step Functions execution
 * named after it cannot start twice. Readable first (slot, revision), unique by the hash.
 */
export function deriveRunId(feed: string, partner: string | null, slotId: string, revision: number): string {
  const hash = createHash('sha256')
    .update(`${feed}\n${partner ?? ''}\n${slotId}\n${revision}`)
    .digest('hex')
    .slice(0, 12);
  return `${slotId}-r${revision}-${hash}`;
}
