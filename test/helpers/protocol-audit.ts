import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalStore } from '../../lib/adapters/local/local-store';
import { isHeld, Lease } from '../../lib/core/lease';
import { processAlive } from '../../lib/adapters/local/process-identity';
import { pidNamespaceId } from '../../lib/adapters/local/process-identity';
import { hostname } from 'node:os';
import type { LatestPointer, Manifest } from '../../lib/core/manifest';
import { manifestProblems } from '../../lib/core/manifest-schema';
import type { RunRecord } from '../../lib/core/run-record';
import type { DropEvent } from '../../lib/core/ports/notifier';
import { listKeys } from './local-run';

/**
 * Checks of the publish protocol over a local store, each returning the problems it found (an
 * empty list when the store is as it must be), so a test names every broken promise at once.
 */

const DROP_FILE = /^(.*\/slot=([^/]+)\/run=([^/]+)\/)([^/]+)$/;

export interface Drop {
  readonly folder: string;
  readonly slot: string;
  readonly runId: string;
  readonly files: string[];
  readonly manifest?: Manifest;
}

/** Every `slot=…/run=…/` folder of the store, with what is in it. */
export async function dropsOf(store: LocalStore): Promise<Drop[]> {
  const byFolder = new Map<string, { slot: string; runId: string; files: string[] }>();
  for (const key of await listKeys(store)) {
    if (key.startsWith('_')) continue;
    const m = DROP_FILE.exec(key);
    if (!m) continue;
    const entry = byFolder.get(m[1]) ?? { slot: m[2], runId: m[3], files: [] };
    entry.files.push(m[4]);
    byFolder.set(m[1], entry);
  }
  const drops: Drop[] = [];
  for (const [folder, e] of byFolder) {
    const got = e.files.includes('manifest.json') ? await store.get(folder + 'manifest.json') : undefined;
    drops.push({ folder, ...e, manifest: got ? (JSON.parse(got.body.toString('utf8')) as Manifest) : undefined });
  }
  return drops;
}

/** A drop is complete when its manifest validates and lists exactly the files beside it, bytes and SHA-256 matching. */
export function dropProblems(store: LocalStore, drop: Drop): string[] {
  if (!drop.manifest) return [`${drop.folder} holds ${drop.files.join(', ')} without a manifest`];
  const m = drop.manifest;
  const problems = manifestProblems(m).map((p) => `${drop.folder}manifest.json: ${p}`);
  if (m.runId !== drop.runId || m.slot.id !== drop.slot) problems.push(`${drop.folder}manifest.json names run ${m.runId} slot ${m.slot.id}`);
  const listed = m.files.map((f) => f.path).sort();
  const present = drop.files.filter((f) => f !== 'manifest.json').sort();
  if (JSON.stringify(listed) !== JSON.stringify(present)) problems.push(`${drop.folder}: manifest lists [${listed}] but the folder holds [${present}]`);
  for (const f of m.files) {
    if (!present.includes(f.path)) continue;
    const bytes = readFileSync(store.localPath(drop.folder + f.path));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== f.bytes || sha256 !== f.sha256)
      problems.push(`${drop.folder}${f.path}: ${bytes.length} bytes ${sha256.slice(0, 12)}…, manifest says ${f.bytes} bytes ${f.sha256.slice(0, 12)}…`);
  }
  return problems;
}

/** Every latest.json points at a manifest that is there, unchanged, of a complete drop. */
export async function pointerProblems(store: LocalStore, drops: readonly Drop[]): Promise<string[]> {
  const problems: string[] = [];
  for (const key of (await listKeys(store)).filter((k) => !k.startsWith('_') && k.endsWith('/latest.json'))) {
    const body = (await store.get(key))!.body;
    const pointer = JSON.parse(body.toString('utf8')) as LatestPointer;
    const target = key.slice(0, -'latest.json'.length) + pointer.manifest;
    const manifest = await store.get(target);
    if (!manifest) {
      problems.push(`${key} points at ${target}, which is not there`);
      continue;
    }
    if (createHash('sha256').update(manifest.body).digest('hex') !== pointer.manifestSha256)
      problems.push(`${key}: SHA-256 of ${target} differs from the pointer's`);
    const drop = drops.find((d) => d.folder + 'manifest.json' === target);
    if (!drop || dropProblems(store, drop).length) problems.push(`${key} points at an incomplete drop ${target}`);
  }
  return problems;
}

/** Nothing staged, no temp or lock file, no engine scratch folder: what a finished run leaves. */
export async function leftoverProblems(store: LocalStore): Promise<string[]> {
  const problems = (await listKeys(store, '_staging/')).map((k) => `staging left: ${k}`);
  const walk = (dir: string): void => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.name.startsWith('.tmp-') || ent.name.endsWith('.lock')) problems.push(`temp file left: ${p}`);
    }
  };
  if (existsSync(store.root)) walk(store.root);
  const work = join(store.root, '_work');
  if (existsSync(work)) for (const name of readdirSync(work)) problems.push(`engine scratch left: _work/${name}`);
  return problems;
}

/** The store as a whole: every run folder a complete drop, pointers right, nothing left over. */
export async function storeProblems(store: LocalStore, options: { leftovers?: boolean; orphans?: boolean } = {}): Promise<string[]> {
  const drops = await dropsOf(store);
  // `orphans: false`: files without a manifest are tolerated (a crash leaves them; the next run removes them).
  const problems = drops.filter((d) => d.manifest || options.orphans !== false).flatMap((d) => dropProblems(store, d));
  problems.push(...(await pointerProblems(store, drops)));
  if (options.leftovers !== false) problems.push(...(await leftoverProblems(store)));
  return problems;
}

export function outboxEvents(store: LocalStore): DropEvent[] {
  const file = join(store.root, '_outbox', 'events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as DropEvent);
}

/**
 * After the next run or a repair: each delivered drop was announced exactly once, no undelivered
 * run was announced as delivered, every run record tells what happened, every lease is free.
 * `gone` names runs whose drop retention removed on purpose.
 */
export interface SettledOptions {
  /** Runs whose drop retention removed on purpose. */
  readonly gone?: readonly string[];
  /** Check only that no lease is held. */
  readonly leasesOnly?: boolean;
  /** Processes that died: their leases hold no one. */
  readonly deadPids?: readonly number[];
  /**
   * The one window where exactly-once cannot be had: the notice went out and the store was lost
   * before the run record could say so. The notice then goes again with the same id (consumers
   * drop a repeated id), so at least once is what is checked.
   */
  readonly atLeastOnce?: boolean;
}

export async function settledProblems(store: LocalStore, options: SettledOptions = {}): Promise<string[]> {
  const gone = new Set(options.gone ?? []);
  const problems: string[] = [];
  if (options.leasesOnly) return leaseProblems(store, options.deadPids);
  const drops = await dropsOf(store);
  const delivered = new Map(drops.filter((d) => d.manifest).map((d) => [d.runId, d]));
  const events = outboxEvents(store);
  const notices = new Map<string, number>();
  for (const e of events.filter((e) => e.type === 'drop.delivered')) notices.set(e.id, (notices.get(e.id) ?? 0) + 1);
  const once = (n: number | undefined) => (options.atLeastOnce ? (n ?? 0) >= 1 : n === 1);
  for (const runId of delivered.keys()) if (!once(notices.get(runId))) problems.push(`drop.delivered for ${runId} sent ${notices.get(runId) ?? 0} times`);
  for (const [id, n] of notices) if (!delivered.has(id) && !gone.has(id)) problems.push(`drop.delivered sent ${n} times for ${id}, which has no manifest`);

  for (const key of (await listKeys(store, '_runs/')).filter((k) => k.endsWith('.json'))) {
    const r = JSON.parse((await store.get(key))!.body.toString('utf8')) as RunRecord;
    const drop = delivered.get(r.runId);
    if (drop) {
      if (r.status !== 'delivered' || r.manifest !== drop.folder + 'manifest.json' || !r.noticeSent || r.error) {
        problems.push(`${key} says ${r.status} (manifest ${r.manifest}, noticeSent ${r.noticeSent}, error ${r.error?.message}) for a delivered run`);
      }
    } else if (!gone.has(r.runId) && (r.status === 'delivered' || r.status === 'running' || r.manifest !== null)) {
      problems.push(`${key} says ${r.status} (manifest ${r.manifest}) for a run that was not delivered`);
    }
  }
  problems.push(...(await leaseProblems(store, options.deadPids)));
  return problems;
}

/** Every lease released (or of a dead process): no attempt keeps a slot once it has ended. */
export async function leaseProblems(store: LocalStore, deadPids: readonly number[] = []): Promise<string[]> {
  const problems: string[] = [];
  for (const key of await listKeys(store, '_leases/')) {
    const lease = JSON.parse((await store.get(key))!.body.toString('utf8')) as Lease;
    const held = isHeld(lease, new Date(), {
      host: hostname(),
      pidNamespace: pidNamespaceId(),
      isAlive: (pid) => !deadPids.includes(pid) && processAlive(pid),
    });
    // Leases are written at the tests' fixed "now", long past: expiry is not what frees them here.
    if (held || (!lease.released && !deadPids.includes(lease.pid ?? -1))) problems.push(`${key} still held by attempt ${lease.attemptId}`);
  }
  return problems;
}
