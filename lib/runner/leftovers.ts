import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalStore } from '../adapters/local/local-store';
import { writerTag } from '../adapters/local/process-identity';

/** A temp file untouched this long belongs to a writer that died (one named after a dead process goes at once). */
const STALE_TEMP_MS = 15 * 60_000;

/**
 * What runs that died leave on this machine: an engine's scratch folder (named after its process
 * id), the store's half-written temp files and lock files, and the folders they leave empty.
 * Removed by the next run; live ones stay.
 */
export async function removeDeadLeftovers(
  workDir: string,
  store: LocalStore | undefined,
  isAlive: (pid: number) => boolean,
  now = Date.now(),
): Promise<string[]> {
  const removed: string[] = [];
  const ownNamespace = writerTag().split('-')[1];
  const entries = await readdir(workDir).catch((): string[] => []);
  for (const name of entries) {
    const m = /^duckdb-(\d+)-(?:([0-9a-f]{8}|x)-)?/.exec(name);
    // Another PID namespace's (a container sharing the store): its pid means nothing here.
    if (m?.[2] && m[2] !== ownNamespace) continue;
    // Folders from before process ids were in the name, or of a dead process.
    if (!m || !isAlive(Number(m[1]))) {
      await rm(join(workDir, name), { recursive: true, force: true });
      removed.push(join(workDir, name));
    }
  }
  for (const file of store ? await store.deadWriterFiles(now - STALE_TEMP_MS, isAlive) : []) {
    await store!.removeLeftover(file);
    removed.push(file);
  }
  return removed;
}
