import type { DataUpdateEvent, DropEvent, DropLinks, SchemaChangeEvent, SupersededDrop, ValidationFailedEvent } from '../ports/notifier';
import type { Manifest } from '../manifest';
import type { RunRecord } from '../run-record';
import { schemaChange, SchemaChange } from './schema-change';

/**
 * Pure builders of the notices other than `drop.delivered` and `run.failed` (built by the notify
 * step). Each id is an idempotency key derived from what the notice is about, so every sender of
 * the same notice (a retry, a second watch) gives it the same id.
 */

/** What every notice says of the run (or slot) it is about, and when it happened. */
export function noticeAbout(
  about: Pick<DropEvent, 'feed' | 'partner' | 'runId' | 'revision' | 'slot'>,
  now: Date,
): Pick<DropEvent, 'feed' | 'partner' | 'runId' | 'revision' | 'slot' | 'occurredAt'> {
  return { feed: about.feed, partner: about.partner, runId: about.runId, revision: about.revision, slot: about.slot, occurredAt: now.toISOString() };
}

/**
 * `schema.change` when the columns or types of `current` differ from those of the previous drop
 * of the same feed and partner; null when they do not (or there is no previous drop).
 */
export function schemaChangeEvent(previous: Manifest | null, current: Manifest, now: Date): SchemaChangeEvent | null {
  if (!previous) return null;
  const change: SchemaChange | null = schemaChange(previous.schema.columns, current.schema.columns);
  if (!change) return null;
  return {
    type: 'schema.change',
    id: `${current.runId}.schema-change`,
    ...noticeAbout({ ...current, slot: current.slot.id }, now),
    schemaChange: change,
    update: { supersedes: { runId: previous.runId, revision: previous.revision }, previousRowCount: previous.rowCount },
  };
}

/** `data.update` when `current` is a rerun that superseded a delivered drop (revision > 1); null otherwise. */
export function dataUpdateEvent(
  current: Manifest,
  superseded: Pick<Manifest, 'runId' | 'revision' | 'rowCount'> | null,
  now: Date,
  links?: DropLinks,
): DataUpdateEvent | null {
  if (current.supersedes === null || current.revision < 2) return null;
  const supersedes = supersedesOf(current, superseded);
  return {
    type: 'data.update',
    id: `${current.runId}.data-update`,
    ...noticeAbout({ ...current, slot: current.slot.id }, now),
    rowCount: current.rowCount,
    supersedes,
    // The replacement's own links, so a partner can fetch it from this notice alone.
    ...(links?.manifest ? { manifest: links.manifest } : {}),
    ...(links?.files ? { files: links.files } : {}),
    update: { supersedes: supersedes!, previousRowCount: superseded?.rowCount ?? null },
  };
}

/** The drop a rerun replaces, as `drop.delivered` and `data.update` name it at top level; null for a first revision. */
export function supersedesOf(
  current: Pick<Manifest, 'supersedes' | 'revision'>,
  superseded?: Pick<Manifest, 'runId' | 'revision'> | null,
): SupersededDrop | null {
  if (current.supersedes === null) return null;
  return { runId: superseded?.runId ?? current.supersedes, revision: superseded?.revision ?? current.revision - 1 };
}

/** `validation.failed` (operators only) from the record of a run whose checks failed; null for other runs. */
export function validationFailedEvent(run: RunRecord, now: Date): ValidationFailedEvent | null {
  if (run.status !== 'validation-failed') return null;
  const failed = (run.validation?.checks ?? [])
    .filter((c) => c.outcome === 'fail' || c.outcome === 'error')
    .map((c) => ({ name: c.name, type: c.type, severity: c.severity, outcome: c.outcome, message: c.message }));
  return {
    type: 'validation.failed',
    id: `${run.runId}.validation-failed`,
    ...noticeAbout(run, now),
    audience: 'operators',
    validation: { status: run.validation?.status ?? 'fail', failed },
    error: run.error ? { step: run.step, name: run.error.name, message: run.error.message } : undefined,
  };
}
