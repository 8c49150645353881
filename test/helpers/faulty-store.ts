import type { Readable } from 'node:stream';
import type { ObjectStore, Precondition, StoredObject } from '../../lib/ports/object-store';

/** The operations that change a store; the ones a fault is injected into. */
export type WriteOp = 'put' | 'move' | 'delete' | 'deletePrefix';

export interface Fault {
  /** Fail the N-th (0-based) write that matches `op` and `key` (every write when both are absent). */
  readonly at: number;
  /** How many matching writes fail from the N-th on (default 1; Infinity: every one, a write that can never succeed). */
  readonly count?: number;
  readonly op?: WriteOp;
  readonly key?: RegExp;
  /**
   * `before`: the write does not happen and throws (a refused write).
   * `after`: the write happens, then throws (the reply was lost).
   * `crash`: the write does not happen and neither does any later operation, reads included
   * (the process lost the store for good, as if it died there).
   */
  readonly mode?: 'before' | 'after' | 'crash';
}

export interface WriteLogEntry {
  readonly index: number;
  readonly op: WriteOp;
  readonly key: string;
}

/** What the injected failure throws: recognisable in run records and outcomes. */
export class InjectedFault extends Error {
  constructor(readonly op: WriteOp, readonly key: string, readonly index: number) {
    super(`injected fault: ${op} ${key} (write #${index})`);
    this.name = 'InjectedFault';
  }
}

/**
 * An ObjectStore that counts every write, move and delete it passes to the store it wraps and
 * fails the one a `Fault` names. Deliberately not a LocalStore: the DuckDB engine then stages and
 * exports through the port too, so every byte the run writes goes through here.
 */
export class FaultyStore implements ObjectStore {
  readonly kind: string;
  /** Every write seen, in order, matching the fault's filter or not. */
  readonly log: WriteLogEntry[] = [];
  private matched = 0;
  private crashed = false;
  /** The first injected failure, once one has fired. */
  fired: InjectedFault | undefined;

  constructor(
    private readonly inner: ObjectStore,
    private readonly fault?: Fault,
  ) {
    this.kind = `faulty(${inner.kind})`;
  }

  /** Writes that matched the fault's filter so far (the range to sweep over, from a clean run). */
  get matchingWrites(): number {
    return this.matched;
  }

  private dead(key: string): void {
    if (this.crashed) throw new Error(`store unreachable after the injected crash (${key})`);
  }

  private async write<T>(op: WriteOp, key: string, work: () => Promise<T>): Promise<T> {
    this.dead(key);
    const entry = { index: this.log.length, op, key };
    this.log.push(entry);
    const f = this.fault;
    const matches = !f || ((!f.op || f.op === op) && (!f.key || f.key.test(key)));
    if (!matches) return work();
    const n = this.matched++;
    if (!f || n < f.at || n >= f.at + (f.count ?? 1)) return work();
    const fault = new InjectedFault(op, key, n);
    this.fired ??= fault;
    const mode = f.mode ?? 'before';
    if (mode === 'crash') this.crashed = true;
    if (mode === 'after') await work();
    throw fault;
  }

  /** A refused put still has to let go of a streamed body, or its writer would wait forever. */
  private drained(body: Buffer | string | Readable): void {
    if (typeof body !== 'string' && !Buffer.isBuffer(body)) body.resume();
  }

  put(key: string, body: Buffer | string | Readable, options?: { contentType?: string; precondition?: Precondition }) {
    return this.write('put', key, () => this.inner.put(key, body, options)).catch((error: unknown) => {
      this.drained(body);
      throw error;
    });
  }
  move(fromKey: string, toKey: string): Promise<void> {
    return this.write('move', toKey, () => this.inner.move(fromKey, toKey));
  }
  delete(key: string): Promise<void> {
    return this.write('delete', key, () => this.inner.delete(key));
  }
  deletePrefix(prefix: string): Promise<void> {
    return this.write('deletePrefix', prefix, () => this.inner.deletePrefix(prefix));
  }
  async get(key: string) {
    this.dead(key);
    return this.inner.get(key);
  }
  async read(key: string): Promise<Readable> {
    this.dead(key);
    return this.inner.read(key);
  }
  async exists(key: string): Promise<boolean> {
    this.dead(key);
    return this.inner.exists(key);
  }
  async *list(prefix: string): AsyncIterable<StoredObject> {
    this.dead(prefix);
    yield* this.inner.list(prefix);
  }
}
