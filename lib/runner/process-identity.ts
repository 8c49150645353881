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
