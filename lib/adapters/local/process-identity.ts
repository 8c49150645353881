import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { uptime } from 'node:os';

/**
 * Which PID namespace this process's pids belong to, so a lease or scratch folder naming a pid is
 * judged dead only by a process that sees the same pids. On Linux: the boot id and the inode of
 * the PID namespace (`/proc/self/ns/pid`), which differ between containers even when they share a
 * hostname. Elsewhere (no containers sharing a hostname there): the boot time, to the minute.
 * Null when it cannot be told: then no lease is freed early; it expires.
 */
export function pidNamespaceId(readProc: (what: 'boot' | 'ns') => string = readLinuxProc): string | null {
  if (process.platform !== 'linux') return `boot@${Math.round((Date.now() / 1000 - uptime()) / 60)}`;
  try {
    const boot = readProc('boot').trim();
    const ns = /^pid:\[(\d+)\]$/.exec(readProc('ns').trim())?.[1];
    return boot && ns ? `${boot}/pid:${ns}` : null;
  } catch {
    return null;
  }
}

function readLinuxProc(what: 'boot' | 'ns'): string {
  return what === 'boot' ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8') : readlinkSync('/proc/self/ns/pid');
}

/** Whether a process of this PID namespace is still running (a lease, lock or temp file of a dead one can go). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let ownTag: string | undefined;

/**
 * What this process writes into the names of its scratch files (temp files, lock tokens):
 * `<pid>-<8 hex of its PID namespace>`, so a later process can tell at once that the writer died,
 * and only when it shares that namespace. `x` stands for a namespace that cannot be told.
 */
export function writerTag(): string {
  if (ownTag === undefined) {
    const ns = pidNamespaceId();
    ownTag = `${process.pid}-${ns ? createHash('sha256').update(ns).digest('hex').slice(0, 8) : 'x'}`;
  }
  return ownTag;
}

/**
 * Whether a name carrying a writer tag (see `writerTag`) was written by a process of our PID
 * namespace that has since died. Unknown, foreign or live writers: false.
 */
export function writerIsDead(name: string, isAlive: (pid: number) => boolean = processAlive): boolean {
  const m = /(?:^|[-.])(\d+)-([0-9a-f]{8})-[0-9a-f]+$/.exec(name);
  if (!m) return false;
  const own = writerTag().split('-')[1];
  return own !== 'x' && m[2] === own && Number(m[1]) !== process.pid && !isAlive(Number(m[1]));
}
