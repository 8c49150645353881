import { createGunzip } from 'node:zlib';
import type { CheckResult } from '../core/checks/check-types';
import type { FeedFile } from '../core/feed/feed-schema';
import type { Manifest } from '../core/manifest';
import type { ColumnProfile } from '../core/profile/profile';
import type { ObjectStore } from '../core/ports/object-store';
import { parseStoreJson } from '../core/store-json';
import { manifestSchema } from '../core/manifest-schema';
import { dropPrefixOfManifest } from '../core/layout';
import { type Preview, readCsvHead, redact } from '../core/profile/preview';

export { type Preview, readCsvHead, redact, REDACTED } from '../core/profile/preview';

/**
 * What the report's profile section shows for a feed, read from the delivered manifests: the
 * latest drop's column profiles, each column over the drops of the period (rows, NULL fraction,
 * median, drift results), and a preview of the latest drop's first rows with PII redacted.
 */
export interface FeedProfileReport {
  readonly latest: { readonly slot: string; readonly partner: string | null; readonly rows: number; readonly columns: readonly ColumnProfile[] } | null;
  /** Oldest first: one point per delivered drop that has a profile. */
  readonly history: readonly ProfilePoint[];
  readonly preview: Preview | null;
  /** Why there is no preview, when there is none. */
  readonly previewNote: string | null;
}

export interface ProfilePoint {
  readonly slot: string;
  readonly partner: string | null;
  readonly rows: number;
  /** Per column: NULL fraction and, for numbers and times, the median as a number (times in epoch ms). */
  readonly columns: Readonly<Record<string, { readonly nullFraction: number; readonly median: number | null }>>;
  readonly drift: readonly Pick<CheckResult, 'name' | 'outcome' | 'observed' | 'message'>[];
}

export const PREVIEW_ROWS = 10;

const MEDIAN = 4; // index of 0.5 in the deciles

function medianOf(c: ColumnProfile): number | null {
  const q = c.quantiles?.[MEDIAN];
  if (q === undefined || q === null) return null;
  return typeof q === 'number' ? q : Date.parse(q);
}

/** Reads the profile section's data for a feed from the manifests of its delivered slots (store keys, oldest first). */
export async function feedProfileReport(
  store: ObjectStore,
  feed: FeedFile,
  manifestKeys: readonly string[],
  previewRows = PREVIEW_ROWS,
): Promise<FeedProfileReport> {
  const history: ProfilePoint[] = [];
  let latest: { manifest: Manifest; key: string } | null = null;
  for (const key of manifestKeys) {
    const got = await store.get(key);
    if (!got) continue;
    const manifest = parseStoreJson(key, got.body, manifestSchema);
    if (!latest || manifest.slot.id >= latest.manifest.slot.id) latest = { manifest, key };
    if (!manifest.profile) continue;
    history.push({
      slot: manifest.slot.id,
      partner: manifest.partner,
      rows: manifest.profile.rows,
      columns: Object.fromEntries(manifest.profile.columns.map((c) => [c.name, { nullFraction: c.nullFraction, median: medianOf(c) }])),
      drift: manifest.validation.checks.filter((c) => c.type === 'drift').map(({ name, outcome, observed, message }) => ({ name, outcome, observed, message })),
    });
  }
  history.sort((a, b) => a.slot.localeCompare(b.slot) || (a.partner ?? '').localeCompare(b.partner ?? ''));
  const pii = Object.entries(feed.columns ?? {}).flatMap(([name, c]) => (c.pii ? [name] : []));
  let preview: Preview | null = null;
  let previewNote: string | null = latest ? null : 'No drop delivered in this period.';
  if (latest) {
    const csvFile = latest.manifest.files.find((f) => f.format === 'csv');
    if (!csvFile || !latest.manifest.csv) previewNote = 'The latest drop has no CSV file to preview.';
    else {
      const base = dropPrefixOfManifest(latest.key);
      const body = await store.read(base + csvFile.path);
      preview = redact(await readCsvHead(csvFile.compression === 'gzip' ? body.pipe(createGunzip()) : body, latest.manifest.csv, previewRows), pii);
    }
  }
  const m = latest?.manifest;
  return {
    latest: m?.profile ? { slot: m.slot.id, partner: m.partner, rows: m.profile.rows, columns: m.profile.columns } : null,
    history,
    preview,
    previewNote,
  };
}
