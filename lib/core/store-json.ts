import type * as z from 'zod';
import type { ObjectStore } from './ports/object-store';
import { DropkitError } from './errors';

/** A JSON object in the store that is not what its key says it is (hand-edited, truncated, another version). */
export class StoreJsonError extends DropkitError {
  readonly key: string;
  readonly problems: readonly string[];
  constructor(key: string, problems: readonly string[], cause?: unknown) {
    super(
      `${key} in the store is not a valid dropkit object: ${problems.join('; ')}. ` +
        'Restore it from the bucket version (or the drop it belongs to), or delete it and run `dropkit repair`',
      { cause },
    );
    this.name = 'StoreJsonError';
    this.key = key;
    this.problems = problems;
  }
}

/** `a.b[2].c: message (got value)` for each issue, the path as a reader of the JSON would write it. */
export function jsonProblems(raw: unknown, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    let value: unknown = raw;
    for (const p of issue.path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[p as PropertyKey] : undefined;
    const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || '(root)';
    const got = value === undefined || (value !== null && typeof value === 'object') ? '' : ` (got ${JSON.stringify(value)})`;
    const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    if (issue.code === 'invalid_type' && value === undefined) return `${path}: required, missing (expected ${issue.expected})`;
    return `${path}: ${issue.message}${keys}${got}`;
  });
}

/**
 * Parses a store object read as JSON and checks it against its schema; the error names the key and
 * each bad field. Returns the parsed JSON itself (the schemas have no defaults or transforms), so a
 * reader that writes the object back keeps its bytes and key order.
 */
export function parseStoreJson<S extends z.ZodType>(key: string, body: Buffer | string, schema: S): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (e) {
    throw new StoreJsonError(key, [`not JSON (${(e as Error).message})`], e);
  }
  const checked = schema.safeParse(raw);
  if (!checked.success) throw new StoreJsonError(key, jsonProblems(raw, checked.error.issues));
  return raw as z.output<S>;
}

/** Reads and checks one JSON object of the store; undefined when the key is absent. */
export async function readStoreJson<S extends z.ZodType>(store: ObjectStore, key: string, schema: S): Promise<z.output<S> | undefined> {
  const got = await store.get(key);
  return got ? parseStoreJson(key, got.body, schema) : undefined;
}
