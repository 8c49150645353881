import type { ObjectStore } from './ports/object-store';
import { parseRunRecord, RunRecord } from './run-record';

// Reading and writing a run's record in the store (its key: `runRecordKey` in layout.ts).

/** The run record at `key`, read through `parseRunRecord` (which also reads older spellings); undefined when absent. */
export async function readRunRecord(store: ObjectStore, key: string): Promise<RunRecord | undefined> {
  const got = await store.get(key);
  return got ? parseRunRecord(got.body, key) : undefined;
}

export async function writeRunRecord(store: ObjectStore, key: string, record: RunRecord): Promise<void> {
  await store.put(key, JSON.stringify(record, null, 2) + '\n', { contentType: 'application/json' });
}
