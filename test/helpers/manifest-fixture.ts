import { createHash } from 'node:crypto';
import type { Manifest, ManifestFile } from '../../lib/core/manifest';

const T = '2024-01-15T07:00:00.000Z';

/** A manifest of feed `daily`, slot 2024-01-15 06:00 UTC, run r1, that validates against the schema; `over` replaces fields. */
export function validManifest(files: readonly ManifestFile[], over: Partial<Manifest> = {}): Manifest {
  return {
    manifestVersion: 1,
    feed: 'daily',
    partner: null,
    runId: 'r1',
    revision: 1,
    supersedes: null,
    status: 'DELIVERED',
    slot: {
      id: '20240115T060000Z',
      scheduledFor: '2024-01-15T06:00:00.000Z',
      dataInterval: { start: '2024-01-14T06:00:00.000Z', end: '2024-01-15T06:00:00.000Z' },
      timezone: 'UTC',
      cron: '0 6 * * *',
    },
    sla: { expectedBy: '2024-01-15T08:00:00.000Z', warnAt: null, deliveredAt: T, latenessSeconds: 0, status: 'MET' },
    timings: { startedAt: T, stagedAt: T, validatedAt: T, renderedAt: T, publishedAt: T },
    query: { engine: 'duckdb', sqlSha256: createHash('sha256').update('select 1').digest('hex'), parameters: {}, executionId: null, bytesScanned: null },
    schema: { columns: [{ name: 'id', type: 'INTEGER', nullable: false }] },
    rowCount: files.reduce((n, f) => n + f.rows, 0),
    files,
    csv: { delimiter: ',', quote: '"', header: true, nullText: '', lineEnding: 'lf', encoding: 'utf-8' },
    validation: { status: 'pass', checks: [] },
    toolkitVersion: 'test',
    ...over,
  };
}
