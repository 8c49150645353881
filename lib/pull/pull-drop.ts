import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readFile, realpath, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DropkitError, PullError } from '../core/errors';
import type { Manifest, ManifestFile } from '../core/manifest';
import { manifestProblems } from '../core/manifest-schema';
import { backoffDelay, sleep as realSleep } from '../core/retry';
import { MANIFEST_FILE } from '../core/layout';

export { PullError };

export type PullFileStatus = 'ok' | 'skipped' | 'failed';

export interface PulledFile {
  readonly path: string;
  /** ok: downloaded and verified; skipped: already present with the right content; failed: see error. */
  readonly status: PullFileStatus;
  readonly rows: number;
  /** What was received (or found on disk); null when nothing usable arrived. */
  readonly bytes: number | null;
  readonly sha256: string | null;
  readonly expectedBytes: number;
  readonly expectedSha256: string;
  /** Transfer attempts made; 0 for skipped files. */
  readonly attempts: number;
  readonly error?: string;
}

export interface PullReport {
  readonly status: 'ok' | 'failed';
  /** Where the manifest came from, with any query string (a presigned signature) redacted. */
  readonly manifest: string;
  /** Absolute destination folder. */
  readonly dest: string;
  readonly feed: string;
  readonly runId: string;
  /** DEST/manifest.json once every file verified; null otherwise. */
  readonly manifestPath: string | null;
  readonly files: readonly PulledFile[];
  /** What the drop holds, per its manifest. */
  readonly totals: { readonly files: number; readonly bytes: number; readonly rows: number };
}

export interface PullOptions {
  /** Local path, file: URL, or http(s) URL of a drop's manifest.json. */
  readonly manifest: string;
  readonly dest: string;
  /** Manifest file path → download URL (presigned links from a DropEvent or a link broker). */
  readonly links?: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
  /** Backoff between attempts; injectable so tests do not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called as each file finishes, in manifest order. */
  readonly onFile?: (file: PulledFile) => void;
  /** Longest wait for a server's answer (response headers) per request. Default 30 s. */
  readonly connectTimeoutMs?: number;
  /** Longest pause between two chunks of a body before the transfer counts as stalled. Default 60 s. */
  readonly idleTimeoutMs?: number;
  /** Time for the whole pull, manifest included; files not done by then fail. Default 6 h. */
  readonly deadlineMs?: number;
  /** A manifest larger than this is refused without being read whole. Default 16 MiB. */
  readonly maxManifestBytes?: number;
}

/** Defaults of the limits; the CLI flags --connect-timeout, --idle-timeout and --deadline override the first three. */
export const PULL_DEFAULTS = {
  connectTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  deadlineMs: 6 * 3600_000,
  // A manifest lists files, not data: even a drop of 100,000 files stays well under this.
  maxManifestBytes: 16 * 1024 * 1024,
} as const;

const MAX_ATTEMPTS = 3;
/** Waits before the second and third tries of a transient failure: 500 ms, then 1 s (never past the deadline). */
const PULL_BACKOFF = { baseMs: 500 } as const;

/** The time limits of one pull, with the moment its deadline passes. */
interface Limits {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly deadlineMs: number;
  readonly deadlineAt: number;
}

type Source = { readonly kind: 'http'; readonly url: URL } | { readonly kind: 'file'; readonly path: string };

/** A transfer failure; transient ones (5xx, network) are retried. */
class TransferError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/**
 * Downloads every file of a drop into `dest`, verifying bytes and SHA-256 against the manifest, and
 * writes the manifest itself last, only when every file verified: like the producer's layout, a
 * folder without manifest.json is not a complete drop. Never writes a half file under a final name.
 * Throws PullError only for the manifest itself (unreadable, invalid, unsafe paths); a file that
 * fails is reported and the others still come.
 */
export async function pullDrop(options: PullOptions): Promise<PullReport> {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? realSleep;
  const deadlineMs = options.deadlineMs ?? PULL_DEFAULTS.deadlineMs;
  const limits: Limits = {
    connectTimeoutMs: options.connectTimeoutMs ?? PULL_DEFAULTS.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? PULL_DEFAULTS.idleTimeoutMs,
    deadlineMs,
    deadlineAt: Date.now() + deadlineMs,
  };
  const given = parseSource(options.manifest, process.cwd());
  if (!given) throw new PullError(`${redact(options.manifest)} is not a path or an http(s) URL of a manifest.json or latest.json`);
  const maxBytes = options.maxManifestBytes ?? PULL_DEFAULTS.maxManifestBytes;
  let manifestSource = given;
  let manifestBytes = await readManifestBytes(given, doFetch, sleep, limits, maxBytes);
  let manifestName = options.manifest;
  // A latest.json points at the newest manifest: follow it, and check the manifest is the one it names.
  const pointer = latestPointerOf(manifestBytes);
  if (pointer) {
    const next = pointerTarget(pointer.manifest, given);
    manifestBytes = await readManifestBytes(next, doFetch, sleep, limits, maxBytes);
    manifestName = next.kind === 'file' ? next.path : next.url.href;
    const sha = createHash('sha256').update(manifestBytes).digest('hex');
    if (sha !== pointer.manifestSha256) {
      throw new PullError(
        `${redact(manifestName)} does not match the SHA-256 that ${redact(options.manifest)} gives for it (${sha} vs ${pointer.manifestSha256}): a newer drop may have landed meanwhile; pull again`,
      );
    }
    manifestSource = next;
  }
  const manifest = parseManifest(manifestBytes, manifestName);
  const dest = path.resolve(options.dest);
  const targets = manifest.files.map((f) => ({ file: f, final: path.join(dest, ...f.path.split('/')) }));

  await mkdir(dest, { recursive: true });
  const manifestPath = path.join(dest, MANIFEST_FILE);
  // A manifest from an earlier, different pull must not vouch for the mix of files this pull leaves behind if it fails.
  const previous = await readFile(manifestPath).catch(() => null);
  if (previous && !previous.equals(manifestBytes)) await unlink(manifestPath);

  const results: PulledFile[] = [];
  for (const { file, final } of targets) {
    const result = await pullFile(file, final, dest, sourceFor(file, manifestSource, options.links), doFetch, sleep, limits);
    results.push(result);
    options.onFile?.(result);
  }

  const ok = results.every((r) => r.status !== 'failed');
  if (ok) await writeAtomically(manifestPath, manifestBytes);
  return {
    status: ok ? 'ok' : 'failed',
    manifest: redact(options.manifest),
    dest,
    feed: manifest.feed,
    runId: manifest.runId,
    manifestPath: ok ? manifestPath : null,
    files: results,
    totals: {
      files: manifest.files.length,
      bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
      // Each format holds every row: the drop's rows, not the sum over its files.
      rows: manifest.rowCount,
    },
  };
}

/** Reads the `files[].path → files[].link.url` mapping out of a DropEvent (or a link broker's answer of the same shape). */
export function linksFromEvent(event: unknown): Record<string, string> {
  const files = (event as { files?: unknown } | null)?.files;
  if (!Array.isArray(files) || files.length === 0) {
    const type = (event as { type?: unknown } | null)?.type;
    throw new DropkitError(`expected a drop.delivered event with files[].path and files[].link.url${typeof type === 'string' ? `; got a ${type} event` : ''}`);
  }
  // fromEntries defines own properties, so a path like "__proto__" cannot touch the prototype.
  return Object.fromEntries(
    files.map((f: any, i) => {
      if (typeof f?.path !== 'string' || typeof f?.link?.url !== 'string') throw new DropkitError(`files[${i}] has no path and link.url`);
      return [f.path, f.link.url];
    }),
  );
}

/** Why a manifest path is unsafe to write under DEST, or null when it is a plain relative path. */
export function unsafePathReason(p: string): string | null {
  if (p.includes('\\')) return 'contains a backslash';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'is absolute';
  const segments = p.split('/');
  if (segments.some((s) => s === '..')) return 'climbs out with ".."';
  if (segments.some((s) => s === '' || s === '.')) return 'has an empty or "." segment';
  if (p === MANIFEST_FILE) return 'would overwrite the manifest';
  return null;
}

function parseManifest(bytes: Buffer, source: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new PullError(`${redact(source)} is not JSON: ${(error as Error).message}`);
  }
  const problems = manifestProblems(json);
  if (problems.length) {
    throw new PullError(`${redact(source)} is not a valid dropkit manifest (schemas/manifest.v1.schema.json):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const manifest = json as Manifest;
  // The schema allows any relative-looking path; a hostile manifest could still aim outside DEST.
  const unsafe: string[] = [];
  const seen = new Set<string>();
  manifest.files.forEach((f, i) => {
    const reason = unsafePathReason(f.path) ?? (seen.has(f.path) ? 'is listed twice' : null);
    seen.add(f.path);
    if (reason) unsafe.push(`  - files/${i}/path ${JSON.stringify(f.path)} ${reason}`);
  });
  if (unsafe.length)
    throw new PullError(`${redact(source)} lists paths that would escape or clobber the destination; nothing was downloaded:\n${unsafe.join('\n')}`);
  return manifest;
}

/** A `latest.json` pointer (it names a manifest and its SHA-256 and lists no files), or undefined. */
function latestPointerOf(bytes: Buffer): { manifest: string; manifestSha256: string } | undefined {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    if (json && typeof json.manifest === 'string' && typeof json.manifestSha256 === 'string' && !('files' in json)) {
      return { manifest: json.manifest, manifestSha256: json.manifestSha256 };
    }
  } catch {
    // Not JSON: parseManifest says so.
  }
  return undefined;
}

/** The manifest a pointer names, relative to the pointer (a path inside the feed's folder only). */
function pointerTarget(relativeKey: string, pointer: Source): Source {
  const reason = unsafePathReason(relativeKey);
  if (reason && relativeKey !== MANIFEST_FILE) throw new PullError(`latest.json names a manifest ${JSON.stringify(relativeKey)} that ${reason}`);
  if (pointer.kind === 'file') return { kind: 'file', path: path.join(path.dirname(pointer.path), ...relativeKey.split('/')) };
  return { kind: 'http', url: new URL(relativeKey.split('/').map(encodeURIComponent).join('/'), pointer.url) };
}

function parseSource(text: string, base: string): Source | null {
  if (/^https?:\/\//i.test(text)) return { kind: 'http', url: new URL(text) };
  // Local link signers hand out file: URLs.
  if (/^file:/i.test(text)) return { kind: 'file', path: fileURLToPath(text) };
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(text)) return null;
  return { kind: 'file', path: path.resolve(base, text) };
}

function sourceFor(file: ManifestFile, manifest: Source, links: Readonly<Record<string, string>> | undefined): Source | string {
  if (links) {
    if (!Object.hasOwn(links, file.path)) return 'the links given have no link for this file';
    return parseSource(links[file.path], process.cwd()) ?? `its link ${redact(links[file.path])} is not an http(s) or file URL`;
  }
  if (manifest.kind === 'file') return { kind: 'file', path: path.join(path.dirname(manifest.path), ...file.path.split('/')) };
  // Resolving against the manifest URL drops its query string: a presigned manifest URL does not sign
  // its sibling files, which is why presigned drops are pulled with --links.
  return { kind: 'http', url: new URL(file.path.split('/').map(encodeURIComponent).join('/'), manifest.url) };
}

async function readManifestBytes(
  source: Source,
  doFetch: typeof fetch,
  sleep: (ms: number) => Promise<void>,
  limits: Limits,
  maxBytes: number,
): Promise<Buffer> {
  const where = source.kind === 'file' ? source.path : redact(source.url.href);
  const tooBig = (size: string) =>
    new PullError(
      `manifest ${where} is larger than ${maxBytes} bytes (${size}), more than any dropkit manifest; nothing was downloaded. Check that MANIFEST names a drop's manifest.json`,
    );
  if (source.kind === 'file') {
    let fh: FileHandle | undefined;
    try {
      fh = await open(source.path, 'r');
      // Streamed with a limit rather than trusting the size: a FIFO or a growing file reports none.
      const bytes = await readCapped(fh.createReadStream({ autoClose: false }), maxBytes);
      if (!bytes) throw tooBig(`read more than ${maxBytes}`);
      return bytes;
    } catch (error) {
      if (error instanceof PullError) throw error;
      throw new PullError(`cannot read manifest ${source.path}: ${(error as Error).message}`);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }
  let lastError: TransferError | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (attempt > 1) await sleep(Math.min(backoffDelay(attempt - 1, PULL_BACKOFF), Math.max(0, limits.deadlineAt - Date.now())));
    const watchdog = new Watchdog(limits);
    try {
      const response = await request(source.url, doFetch, watchdog);
      const length = Number(response.headers.get('content-length'));
      if (length > maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw tooBig(`${length} bytes`);
      }
      const bytes = await readCapped(watchdog.watch((response.body ?? []) as unknown as AsyncIterable<Uint8Array>), maxBytes).catch((error: unknown) => {
        throw watchdog.failure ?? new TransferError(`network error: ${describeError(error)}`, true);
      });
      if (!bytes) throw tooBig(`read more than ${maxBytes}`);
      return bytes;
    } catch (error) {
      if (error instanceof PullError) throw error;
      lastError = asTransferError(watchdog.failure ?? error, true);
      if (!lastError.transient) break;
    } finally {
      watchdog.stop();
    }
  }
  throw new PullError(
    `cannot fetch manifest ${redact(source.url.href)}: ${lastError?.message}${lastError?.transient ? ` (after ${MAX_ATTEMPTS} attempts)` : ''}`,
  );
}

/** The whole body, or null as soon as it passes maxBytes (the rest is never read). */
async function readCapped(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) return Buffer.concat(chunks);
    size += value.length;
    if (size > maxBytes) {
      await iterator.return?.();
      return null;
    }
    chunks.push(value);
  }
}

/**
 * Guards one HTTP transfer: until the answer comes, the connect timeout; while the body flows, the
 * idle timeout, restarted by every chunk; throughout, the pull's overall deadline. When one passes
 * it aborts the request, and `failure` says which.
 */
class Watchdog {
  readonly controller = new AbortController();
  private phase: NodeJS.Timeout | undefined;
  private overall: NodeJS.Timeout | undefined;

  constructor(private readonly limits: Limits) {
    this.armDeadline();
    this.arm(limits.connectTimeoutMs, `no answer within ${seconds(limits.connectTimeoutMs)} (--connect-timeout)`);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the transfer was aborted, if the watchdog did it. */
  get failure(): TransferError | undefined {
    return this.controller.signal.aborted && this.controller.signal.reason instanceof TransferError ? this.controller.signal.reason : undefined;
  }

  /** The answer came: from now on a transfer fails only when it stalls (or at the deadline). */
  answered(): void {
    this.arm(this.limits.idleTimeoutMs, `stalled: no data for ${seconds(this.limits.idleTimeoutMs)} (--idle-timeout)`);
  }

  /** The body, with the idle timer restarted by every chunk. */
  async *watch(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of body) {
      this.phase?.refresh();
      yield chunk;
    }
  }

  stop(): void {
    clearTimeout(this.phase);
    clearTimeout(this.overall);
  }

  private arm(ms: number, message: string): void {
    clearTimeout(this.phase);
    this.phase = setTimeout(() => this.fail(new TransferError(message, true)), Math.min(ms, MAX_TIMER_MS));
  }

  /** Node fires a timer of more than 2^31-1 ms at once, so a far deadline is approached in steps. */
  private armDeadline(): void {
    const left = this.limits.deadlineAt - Date.now();
    this.overall =
      left > MAX_TIMER_MS ? setTimeout(() => this.armDeadline(), MAX_TIMER_MS) : setTimeout(() => this.fail(deadlineError(this.limits)), Math.max(0, left));
  }

  private fail(error: TransferError): void {
    this.stop();
    if (!this.controller.signal.aborted) this.controller.abort(error);
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

function deadlineError(limits: Limits): TransferError {
  return new TransferError(`the deadline of ${seconds(limits.deadlineMs)} (--deadline) passed`, false);
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

async function pullFile(
  file: ManifestFile,
  final: string,
  dest: string,
  source: Source | string,
  doFetch: typeof fetch,
  sleep: (ms: number) => Promise<void>,
  limits: Limits,
): Promise<PulledFile> {
  const expected = { path: file.path, rows: file.rows, expectedBytes: file.bytes, expectedSha256: file.sha256 };
  // What a failed file leaves behind: nothing under its name, not even an older file of the same name.
  const failed = async (error: string, attempts: number, got?: { bytes: number; sha256: string | null }): Promise<PulledFile> => ({
    ...expected,
    status: 'failed',
    bytes: got?.bytes ?? null,
    sha256: got?.sha256 ?? null,
    attempts,
    error: error + (await removeStale(final, dest)),
  });
  if (typeof source === 'string') return failed(source, 0);
  if (Date.now() >= limits.deadlineAt) return failed(`not attempted: ${deadlineError(limits).message}`, 0);

  try {
    await mkdir(path.dirname(final), { recursive: true });
    // A symlinked folder already inside DEST could still lead outside it.
    const [realDest, realParent] = await Promise.all([realpath(dest), realpath(path.dirname(final))]);
    if (realParent !== realDest && !realParent.startsWith(realDest + path.sep)) {
      return { ...expected, status: 'failed', bytes: null, sha256: null, attempts: 0, error: `its folder resolves outside the destination (${realParent})` };
    }
    if (await alreadyVerified(final, file)) return { ...expected, status: 'skipped', bytes: file.bytes, sha256: file.sha256, attempts: 0 };
  } catch (error) {
    return failed(`cannot prepare ${final}: ${(error as Error).message}`, 0);
  }

  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const got = await downloadVerified(file, final, source, doFetch, limits);
      if ('mismatch' in got) return failed(got.mismatch, attempts, got);
      return { ...expected, status: 'ok', bytes: got.bytes, sha256: got.sha256, attempts };
    } catch (error) {
      const transfer = asTransferError(error, false);
      if (!transfer.transient || attempts >= MAX_ATTEMPTS || Date.now() >= limits.deadlineAt) {
        return failed(attempts > 1 ? `${transfer.message} (after ${attempts} attempts)` : transfer.message, attempts);
      }
      await sleep(Math.min(backoffDelay(attempts, PULL_BACKOFF), Math.max(0, limits.deadlineAt - Date.now())));
      if (Date.now() >= limits.deadlineAt) return failed(`${deadlineError(limits).message} (after ${attempts} attempts)`, attempts);
    }
  }
}

/**
 * Removes what stands under a failed file's name (an older drop's file, a symlink), so that only
 * verified files stay in DEST. Returns a note for the report when something could not be removed.
 */
async function removeStale(final: string, dest: string): Promise<string> {
  const stat = await lstat(final).catch(() => null);
  if (!stat) return '';
  if (stat.isDirectory()) return `; a folder stands under that name in the destination and was left alone`;
  try {
    // Only inside DEST: the parent folder could be a symlink leading elsewhere.
    const [realDest, realParent] = await Promise.all([realpath(dest), realpath(path.dirname(final))]);
    if (realParent !== realDest && !realParent.startsWith(realDest + path.sep)) return '';
    await unlink(final);
    return '; the older file under that name was removed';
  } catch (error) {
    return `; the older file under that name could not be removed: ${(error as Error).message}`;
  }
}

/** A regular file (not a symlink) with the manifest's size and hash: a previous pull already got it. */
async function alreadyVerified(final: string, file: ManifestFile): Promise<boolean> {
  const stat = await lstat(final).catch(() => null);
  if (!stat?.isFile() || stat.size !== file.bytes) return false;
  const fh = await open(final, 'r');
  try {
    const hash = createHash('sha256');
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex') === file.sha256;
  } finally {
    await fh.close();
  }
}

type Downloaded = { bytes: number; sha256: string } | { bytes: number; sha256: string | null; mismatch: string };

/**
 * One attempt: streams the source to `<final>.partial-<random>` while hashing, and renames it to
 * `final` only once it matches the manifest. The partial file is gone whatever happens.
 */
async function downloadVerified(file: ManifestFile, final: string, source: Source, doFetch: typeof fetch, limits: Limits): Promise<Downloaded> {
  const watchdog = source.kind === 'http' ? new Watchdog(limits) : undefined;
  try {
    return await downloadWatched(file, final, source, doFetch, watchdog);
  } catch (error) {
    // An abort surfaces as a generic error from fetch or the body; the watchdog knows the real reason.
    throw watchdog?.failure ?? error;
  } finally {
    watchdog?.stop();
  }
}

async function downloadWatched(file: ManifestFile, final: string, source: Source, doFetch: typeof fetch, watchdog: Watchdog | undefined): Promise<Downloaded> {
  const opened = await openSource(source, doFetch, watchdog);
  const contentEncoding = opened.contentEncoding;
  const body = watchdog ? watchdog.watch(opened.body) : opened.body;
  const partial = `${final}.partial-${randomBytes(6).toString('hex')}`;
  const out = await open(partial, 'wx').catch(async (error: Error) => {
    await body[Symbol.asyncIterator]().return?.();
    throw new TransferError(`cannot write ${partial}: ${error.message}`, false);
  });
  let closed = false;
  let renamed = false;
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of body) {
        bytes += chunk.length;
        // Stop at the manifest's size: a hostile or broken server must not be able to fill the disk.
        if (bytes > file.bytes) {
          return { bytes, sha256: null, mismatch: `received more than the ${file.bytes} bytes the manifest lists; stopped after ${bytes}` };
        }
        hash.update(chunk);
        await writeAll(out, chunk);
      }
    } catch (error) {
      if (error instanceof TransferError) throw error;
      // Reading an HTTP body fails when the connection drops: worth another attempt. A local read error is not.
      throw new TransferError(`${source.kind === 'http' ? 'network error' : 'read error'}: ${describeError(error)}`, source.kind === 'http');
    }
    const sha256 = hash.digest('hex');
    if (bytes !== file.bytes || sha256 !== file.sha256) {
      const decoded = contentEncoding
        ? `; the server sent Content-Encoding: ${contentEncoding}, so the body was decoded in transit (store the object without Content-Encoding)`
        : '';
      return {
        bytes,
        sha256,
        mismatch: `content does not match the manifest: sha256 expected ${file.sha256}, got ${sha256}; bytes expected ${file.bytes}, got ${bytes}${decoded}`,
      };
    }
    try {
      await out.sync();
      await out.close();
      closed = true;
      await rename(partial, final);
      renamed = true;
      await syncDir(path.dirname(final));
    } catch (error) {
      throw new TransferError(`cannot write ${final}: ${(error as Error).message}`, false);
    }
    return { bytes, sha256 };
  } finally {
    if (!closed) await out.close().catch(() => undefined);
    if (!renamed) await unlink(partial).catch(() => undefined);
  }
}

async function openSource(
  source: Source,
  doFetch: typeof fetch,
  watchdog: Watchdog | undefined,
): Promise<{ body: AsyncIterable<Uint8Array>; contentEncoding?: string }> {
  if (source.kind === 'file') {
    const fh = await open(source.path, 'r').catch((error: NodeJS.ErrnoException) => {
      throw new TransferError(error.code === 'ENOENT' ? `no such file: ${source.path}` : `cannot read ${source.path}: ${error.message}`, false);
    });
    return { body: fh.createReadStream() };
  }
  const response = await request(source.url, doFetch, watchdog!);
  const encoding = response.headers.get('content-encoding');
  // Node's web streams are async iterable; a null body is an empty file.
  const body = (response.body ?? []) as unknown as AsyncIterable<Uint8Array>;
  return { body, contentEncoding: encoding && encoding !== 'identity' ? encoding : undefined };
}

/** GET with a 2xx answer, or a TransferError saying whether another attempt could help. */
async function request(url: URL, doFetch: typeof fetch, watchdog: Watchdog): Promise<Response> {
  let response: Response;
  try {
    // identity: a server that compresses on the fly would hand back bytes whose hash is not the manifest's.
    response = await doFetch(url, { headers: { 'accept-encoding': 'identity' }, signal: watchdog.signal });
  } catch (error) {
    throw watchdog.failure ?? new TransferError(`network error: ${describeError(error)} (${redact(url.href)})`, true);
  }
  watchdog.answered();
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const transient = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new TransferError(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} from ${redact(url.href)}`, transient);
  }
  return response;
}

async function writeAll(out: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  try {
    while (offset < chunk.length) offset += (await out.write(chunk, offset, chunk.length - offset)).bytesWritten;
  } catch (error) {
    throw new TransferError(`cannot write: ${(error as Error).message}`, false);
  }
}

/** Same discipline as the data files: never a half manifest under its final name. */
async function writeAtomically(final: string, bytes: Buffer): Promise<void> {
  const partial = `${final}.partial-${randomBytes(6).toString('hex')}`;
  const out = await open(partial, 'wx');
  try {
    await writeAll(out, bytes);
    await out.sync();
  } catch (error) {
    await out.close().catch(() => undefined);
    await unlink(partial).catch(() => undefined);
    throw error;
  }
  await out.close();
  await rename(partial, final);
  await syncDir(path.dirname(final));
}

/** Makes a rename durable. Not every platform can open a folder for fsync; that only weakens durability. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => null);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close();
}

function asTransferError(error: unknown, networkDefault: boolean): TransferError {
  return error instanceof TransferError ? error : new TransferError(describeError(error), networkDefault);
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch reports "fetch failed"; the reason (ECONNREFUSED, ECONNRESET…) is in its cause.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${error.message} (${detail})` : error.message;
}

/** Presigned URLs carry credentials in the query string: keep them out of reports and logs. */
export function redact(text: string): string {
  if (!/^https?:\/\//i.test(text)) return text;
  try {
    const url = new URL(text);
    const hidden = url.search ? '?…' : '';
    url.search = '';
    url.username = '';
    url.password = '';
    return url.href + hidden;
  } catch {
    return text;
  }
}
