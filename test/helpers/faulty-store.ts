import type { Readable } from 'node:stream';
import { LocalStore } from '../../lib/adapters/local/local-store';
import type { ObjectStore, Precondition, StoredObject } from '../../lib/core/ports/object-store';

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
  constructor(
    readonly op: WriteOp,
    readonly key: string,
    readonly index: number,
  ) {
    super(`injected fault: ${op} ${key} (write #${index})`);
    this.name = 'InjectedFault';
  }
}

/** Counts writes and fails the one a `Fault` names; shared by both faulty stores. */
class FaultInjector {
  readonly log: WriteLogEntry[] = [];
  private matched = 0;
  private crashed = false;
  fired: InjectedFault | undefined;

  constructor(private readonly fault?: Fault) {}

  dead(key: string): void {
    if (this.crashed) throw new Error(`store unreachable after the injected crash (${key})`);
  }

  async write<T>(op: WriteOp, key: string, work: () => Promise<T>): Promise<T> {
    this.dead(key);
    this.log.push({ index: this.log.length, op, key });
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
  async put<T>(key: string, body: Buffer | string | Readable, work: () => Promise<T>): Promise<T> {
    try {
      return await this.write('put', key, work);
    } catch (error) {
      if (typeof body !== 'string' && !Buffer.isBuffer(body)) body.resume();
      throw error;
    }
  }
}

/** What both faulty stores show a test. */
export interface FaultLog {
  /** Every write seen, in order, matching the fault's filter or not. */
  readonly log: readonly WriteLogEntry[];
  /** The first injected failure, once one has fired. */
  readonly fired: InjectedFault | undefined;
}

/**
 * An ObjectStore that counts every write, move and delete it passes to the store it wraps and
 * fails the one a `Fault` names. Deliberately not a LocalStore: the DuckDB engine then stages and
 * exports through the port too, so every byte the run writes goes through here.
 */
export class FaultyStore implements ObjectStore, FaultLog {
  readonly kind: string;
  private readonly faults: FaultInjector;

  constructor(
    private readonly inner: ObjectStore,
    fault?: Fault,
  ) {
    this.kind = `faulty(${inner.kind})`;
    this.faults = new FaultInjector(fault);
  }

  get log(): readonly WriteLogEntry[] {
    return this.faults.log;
  }
  get fired(): InjectedFault | undefined {
    return this.faults.fired;
  }

  put(key: string, body: Buffer | string | Readable, options?: { contentType?: string; precondition?: Precondition }) {
    return this.faults.put(key, body, () => this.inner.put(key, body, options));
  }
  move(fromKey: string, toKey: string): Promise<{ versionId?: string } | void> {
    return this.faults.write('move', toKey, () => this.inner.move(fromKey, toKey));
  }
  delete(key: string): Promise<void> {
    return this.faults.write('delete', key, () => this.inner.delete(key));
  }
  deletePrefix(prefix: string): Promise<void> {
    return this.faults.write('deletePrefix', prefix, () => this.inner.deletePrefix(prefix));
  }
  async get(key: string) {
    this.faults.dead(key);
    return this.inner.get(key);
  }
  async read(key: string): Promise<Readable> {
    this.faults.dead(key);
    return this.inner.read(key);
  }
  async exists(key: string): Promise<boolean> {
    this.faults.dead(key);
    return this.inner.exists(key);
  }
  async *list(prefix: string): AsyncIterable<StoredObject> {
    this.faults.dead(prefix);
    yield* this.inner.list(prefix);
  }
}

/**
 * A LocalStore with the same faults: the engine sees a local folder and works in place as
 * `dropkit run` does (staged Parquet written straight into the folder, exports renamed in by
 * `putFile`, counted as a put).
 */
export class FaultyLocalStore extends LocalStore implements FaultLog {
  private readonly faults: FaultInjector;

  constructor(root: string, fault?: Fault) {
    super(root);
    this.faults = new FaultInjector(fault);
  }

  get log(): readonly WriteLogEntry[] {
    return this.faults.log;
  }
  get fired(): InjectedFault | undefined {
    return this.faults.fired;
  }

  override put(key: string, body: Buffer | string | Readable, options?: { contentType?: string; precondition?: Precondition }) {
    return this.faults.put(key, body, () => super.put(key, body, options));
  }
  override putFile(key: string, file: string, options?: { contentType?: string }) {
    return this.faults.write('put', key, () => super.putFile(key, file, options));
  }
  override move(fromKey: string, toKey: string): Promise<void> {
    return this.faults.write('move', toKey, () => super.move(fromKey, toKey));
  }
  override delete(key: string): Promise<void> {
    return this.faults.write('delete', key, () => super.delete(key));
  }
  override deletePrefix(prefix: string): Promise<void> {
    return this.faults.write('deletePrefix', prefix, () => super.deletePrefix(prefix));
  }
  override async get(key: string) {
    this.faults.dead(key);
    return super.get(key);
  }
  override async read(key: string): Promise<Readable> {
    this.faults.dead(key);
    return super.read(key);
  }
  override async exists(key: string): Promise<boolean> {
    this.faults.dead(key);
    return super.exists(key);
  }
  override async *list(prefix: string): AsyncIterable<StoredObject> {
    this.faults.dead(prefix);
    yield* super.list(prefix);
  }
}
