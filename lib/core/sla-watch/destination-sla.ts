import type { DestinationRecord } from '../ports/destination';
import type { Manifest } from '../manifest';
import type { RunRecord } from '../run-record';

/** Where one destination stands with one drop, for the SLA, `history` and the report. */
export interface DestinationOutcome {
  readonly destination: string;
  readonly target: string | null;
  /** `pending`: the drop says it goes there, and no push has been recorded yet. */
  readonly status: DestinationRecord['status'] | 'pending';
  readonly finishedAt: string | null;
  /** The first error of a failed push. */
  readonly error: string | null;
  readonly rowsRejected: number;
}

/**
 * The destinations of a drop and what each did with it: the manifest's delivery section says where
 * it goes (from the commit point); the run record says what happened. A drop whose manifest is gone
 * (retention) or predates the section is judged on the run record alone.
 */
export function destinationOutcomes(
  manifest: Pick<Manifest, 'delivery'> | undefined,
  record: Pick<RunRecord, 'destinations'> | undefined,
): DestinationOutcome[] {
  const records = record?.destinations ?? [];
  const names = manifest?.delivery ? manifest.delivery.destinations.map((d) => d.name) : records.map((r) => r.destination);
  return names.map((name) => {
    const r = records.find((x) => x.destination === name);
    const target = manifest?.delivery?.destinations.find((d) => d.name === name)?.target ?? r?.target ?? null;
    if (!r) return { destination: name, target, status: 'pending', finishedAt: null, error: null, rowsRejected: 0 };
    return {
      destination: name,
      target,
      status: r.status,
      finishedAt: r.finishedAt,
      error: r.status === 'failed' ? (r.errors[0]?.message ?? 'failed') : null,
      rowsRejected: r.rowsRejected,
    };
  });
}

/**
 * When the last destination got the drop (rows an API rejected are in the dead-letter file, and
 * the next diff sends them again: the drop counts as there); null while one has not.
 */
export function arrivedAt(outcomes: readonly DestinationOutcome[]): string | null {
  if (outcomes.some((o) => o.status === 'failed' || o.status === 'pending')) return null;
  return outcomes.reduce<string | null>((last, o) => (last === null || (o.finishedAt ?? '') > last ? o.finishedAt : last), null);
}

/** The destinations that do not have the drop, said for a person, with what to do. */
export function missingAtDestinations(outcomes: readonly DestinationOutcome[], feed: string): string {
  const missing = outcomes.filter((o) => o.status === 'failed' || o.status === 'pending');
  const said = missing.map((o) => `destination ${o.destination}${o.status === 'failed' ? ` failed: ${o.error}` : ' has not received it yet'}`).join('; ');
  const fix = missing.some((o) => o.status === 'failed')
    ? `fix the destination, then \`dropkit repair ${feed}\` pushes again from where it stopped`
    : `the push runs after publish; \`dropkit repair ${feed}\` finishes one that died`;
  return `${said} (${fix})`;
}
