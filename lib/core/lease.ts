import type { Clock } from './ports/clock';
import { ObjectStore, PreconditionFailed } from './ports/object-store';
import { SlotBusyError } from './errors';
import { parseStoreJson } from './store-json';
import { leaseSchema } from './store-records';

/**
 * One attempt at a time owns a slot. The lease is an object in the store written with conditional
 * writes only (create-if-absent, replace-if-unchanged), so the same mechanism serves a local folder
 * and S3. A crashed holder cannot keep it forever: it expires, and where a process id provably
 * means the same process (the same PID namespace of the same boot) a dead one frees it at once.
 */
export interface Lease {
  readonly attemptId: string;
  readonly runId: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
  /** Where the holder runs, so a holder on the same machine can be seen to be dead. */
  readonly host: string | null;
  readonly pid: number | null;
  /**
   * The PID namespace the pid belongs to (boot id + namespace inode on Linux): two containers that
   * share a hostname (host networking) have different ones, so neither takes the other's pid for its own.
   */
  readonly pidNamespace?: string | null;
  readonly released: boolean;
}

/** What a holder keeps to renew or release its lease. Plain JSON: it travels with the run's state. */
export interface HeldLease {
  readonly key: string;
  readonly etag: string;
  readonly attemptId: string;
}

export interface LeaseOptions {
  readonly ttlSeconds: number;
  readonly host?: string | null;
  readonly pid?: number | null;
  /** This process's PID namespace (see `Lease.pidNamespace`); without it no lease is freed early. */
  readonly pidNamespace?: string | null;
  /** Tells whether a process on this host is alive (default: assume it is). */
  readonly isAlive?: (pid: number) => boolean;
}

export type LeaseResult = { readonly acquired: true; readonly held: HeldLease } | { readonly acquired: false; readonly holder: Lease };

export async function acquireLease(
  store: ObjectStore,
  key: string,
  attempt: { attemptId: string; runId: string },
  now: Date,
  options: LeaseOptions,
): Promise<LeaseResult> {
  const body = (): Lease => ({
    attemptId: attempt.attemptId,
    runId: attempt.runId,
    acquiredAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + options.ttlSeconds * 1000).toISOString(),
    host: options.host ?? null,
    pid: options.pid ?? null,
    pidNamespace: options.pidNamespace ?? null,
    released: false,
  });
  for (let tries = 0; tries < 5; tries++) {
    const current = await store.get(key);
    if (current) {
      const lease = parseStoreJson(key, current.body, leaseSchema);
      if (lease.attemptId !== attempt.attemptId && isHeld(lease, now, options)) return { acquired: false, holder: lease };
    }
    try {
      const precondition = current ? { ifMatch: current.etag } : ({ ifNoneMatch: '*' } as const);
      const { etag } = await store.put(key, JSON.stringify(body()) + '\n', { contentType: 'application/json', precondition });
      return { acquired: true, held: { key, etag, attemptId: attempt.attemptId } };
    } catch (error) {
      if (!(error instanceof PreconditionFailed)) {
        // The write may have landed with its reply lost: a lease of ours nobody knows of would keep the slot.
        await releaseIfOurs(store, key, attempt.attemptId).catch(() => undefined);
        throw error;
      }
      // Someone else wrote it between our read and write: read again.
    }
  }
  const latest = await store.get(key);
  const holder = latest ? parseStoreJson(key, latest.body, leaseSchema) : undefined;
  return holder ? { acquired: false, holder } : acquireLease(store, key, attempt, now, options);
}

/**
 * Extends the lease, only if it is still exactly the one this holder wrote: the fence before any
 * write to shared places. Throws SlotBusyError when it was taken over.
 */
export async function renewLease(store: ObjectStore, held: HeldLease, now: Date, ttlSeconds: number): Promise<HeldLease> {
  const current = await store.get(held.key);
  const lease = current && parseStoreJson(held.key, current.body, leaseSchema);
  if (!current || !lease || current.etag !== held.etag || lease.attemptId !== held.attemptId) {
    throw new SlotBusyError(`another run took over this slot (lease ${held.key}); this attempt stops without publishing`);
  }
  const next: Lease = { ...lease, expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString() };
  try {
    const { etag } = await store.put(held.key, JSON.stringify(next) + '\n', { contentType: 'application/json', precondition: { ifMatch: held.etag } });
    return { ...held, etag };
  } catch (error) {
    if (error instanceof PreconditionFailed) throw new SlotBusyError(`another run took over this slot (lease ${held.key}) while this attempt renewed it`);
    throw error;
  }
}

/** An attempt's claim on its slot where no HeldLease travels (a push node gets the attempt id only). */
export interface AttemptLease {
  readonly attemptId: string;
  readonly ttlSeconds: number;
}

/**
 * Renews the lease at `key` while it names `attemptId` and is not released, whatever its etag (the
 * attempt's earlier renewals changed it). Throws SlotBusyError once another attempt owns the slot.
 */
export async function renewOwnLease(store: ObjectStore, key: string, attemptId: string, now: Date, ttlSeconds: number): Promise<HeldLease> {
  const current = await store.get(key);
  const lease = current && parseStoreJson(key, current.body, leaseSchema);
  if (!current || !lease || lease.attemptId !== attemptId || lease.released) {
    throw new SlotBusyError(
      `another run took over this slot (lease ${key}, now ${lease ? `attempt ${lease.attemptId}` : 'gone'}); attempt ${attemptId} stops here`,
    );
  }
  return renewLease(store, { key, etag: current.etag, attemptId }, now, ttlSeconds);
}

/**
 * The fence of a long step that works in units (a push: files, batches): call it before each
 * unit. It renews the attempt's lease on the first call and then whenever a third of the TTL has
 * passed on the injected clock, as the local runner's background keeper does, and throws
 * SlotBusyError once another attempt owns the slot, so the step stops before its next write.
 */
export function leaseFence(store: ObjectStore, key: string, lease: AttemptLease, clock: Clock): () => Promise<void> {
  let renewedAt: number | undefined;
  return async () => {
    const now = clock.now();
    if (renewedAt !== undefined && now.getTime() - renewedAt < (lease.ttlSeconds * 1000) / 3) return;
    await renewOwnLease(store, key, lease.attemptId, now, lease.ttlSeconds);
    renewedAt = now.getTime();
  };
}

/**
 * Frees the slot for the next attempt. Quiet when the lease is no longer ours. Tried again on a
 * store error: a lease left held by an attempt that has ended keeps the slot until it expires.
 */
export async function releaseLease(store: ObjectStore, held: HeldLease): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      const current = await store.get(held.key);
      if (!current) return;
      const lease = parseStoreJson(held.key, current.body, leaseSchema);
      // Ours while it names this attempt, whatever its etag: a renewal (publish's fence, the
      // background keeper) or a write whose reply was lost changes the etag, not the owner.
      if (lease.attemptId !== held.attemptId || lease.released) return;
      await store.put(held.key, JSON.stringify({ ...lease, released: true }) + '\n', {
        contentType: 'application/json',
        precondition: { ifMatch: current.etag },
      });
      return;
    } catch (error) {
      if (error instanceof PreconditionFailed) return;
      if (tries >= 3) throw error;
    }
  }
}

/** Releases the lease at `key` if `attemptId` wrote it, whatever its etag. */
async function releaseIfOurs(store: ObjectStore, key: string, attemptId: string): Promise<void> {
  const current = await store.get(key);
  if (!current) return;
  const lease = parseStoreJson(key, current.body, leaseSchema);
  if (lease.attemptId === attemptId && !lease.released) await releaseLease(store, { key, etag: current.etag, attemptId });
}

/** Whether a lease still keeps others out. */
export function isHeld(lease: Lease, now: Date, options: Pick<LeaseOptions, 'host' | 'pidNamespace' | 'isAlive'>): boolean {
  if (lease.released) return false;
  if (Date.parse(lease.expiresAt) <= now.getTime()) return false;
  // A holder whose process is gone will never finish: free at once, but only when its pid provably
  // names a process we can see (same host, same PID namespace of the same boot). A hostname alone
  // proves nothing: containers on host networking share it, each with its own pids.
  const samePidSpace = !!lease.host && lease.host === options.host && !!lease.pidNamespace && lease.pidNamespace === options.pidNamespace;
  if (samePidSpace && lease.pid !== null && options.isAlive && !options.isAlive(lease.pid)) return false;
  return true;
}

/** Reads the lease of a slot, if any. */
export async function readLease(store: ObjectStore, key: string): Promise<Lease | undefined> {
  const got = await store.get(key);
  return got ? parseStoreJson(key, got.body, leaseSchema) : undefined;
}
