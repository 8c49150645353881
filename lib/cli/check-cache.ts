import { type Dirent, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { LocalSource } from '../core/feed/feed-definition';
import { matchingFiles } from '../project/source-files';
import { TOOLKIT_VERSION } from '../version';
import { sha256Hex } from '../core/hash';

/**
 * What `dropkit check` found for inputs it has seen before: the columns of a feed's SQL compiled
 * against the sources, the tables its Athena SQL reads. A warm check then loads neither DuckDB
 * nor the SQL grammar. Each entry's key is a hash of everything its answer depends on (the text
 * compiled, the parameter types, the sources' declarations and files' identities, the versions of
 * dropkit and DuckDB), so any change to them misses and is compiled again: an entry can be
 * stale only in the sense of being unused, never wrong.
 *
 * It lives in the user's cache folder (`$XDG_CACHE_HOME/dropkit/check`, else
 * `~/.cache/dropkit/check`), never in the project: one file per project folder, holding only the
 * entries the last check used, written whole and renamed into place. A file that cannot be read
 * or parsed is ignored and rewritten; one that cannot be written leaves check as it was, slower.
 * `dropkit check --no-cache` neither reads nor writes it.
 */
export class CheckCache {
  private readonly used = new Map<string, unknown>();
  private changed = false;

  private constructor(
    /** Where the entries are kept; undefined: nothing is read or written (`--no-cache`). */
    readonly file: string | undefined,
    private readonly stored: Readonly<Record<string, unknown>>,
  ) {}

  /** The cache of the project at `projectDir`, read from `dir` (default: the user's cache folder). */
  static open(projectDir: string, dir: string = checkCacheDir()): CheckCache {
    const file = join(dir, `${sha256Hex(resolve(projectDir)).slice(0, 32)}.json`);
    return new CheckCache(file, readEntries(file));
  }

  /** A cache that remembers nothing. */
  static disabled(): CheckCache {
    return new CheckCache(undefined, {});
  }

  get<T>(key: string): T | undefined {
    if (!this.file) return undefined;
    // Set by this very check (feeds that share their SQL): answered once.
    if (this.used.has(key)) return this.used.get(key) as T;
    if (!Object.hasOwn(this.stored, key)) return undefined;
    const value = this.stored[key] as T;
    this.used.set(key, value);
    return value;
  }

  set(key: string, value: unknown): void {
    if (!this.file) return;
    this.used.set(key, value);
    this.changed = true;
  }

  /**
   * Now, by the clock that stamps files (it can lag the system clock): the change time of a marker
   * file written beside the cache. An input whose change time is not before it may have changed
   * while it was read. Undefined when nothing is remembered or the marker cannot be written.
   * Assumes the project's files are stamped by this machine's clock, finer than a second (ext4,
   * xfs, btrfs, APFS, NTFS); elsewhere (a network share, FAT) a file changed in the very second it
   * was read may be remembered as read, the limit git's index has too.
   */
  fileClock(): bigint | undefined {
    if (!this.file) return undefined;
    const marker = `${this.file}.clock`;
    try {
      makeFolders(join(this.file, '..'));
      writeFileSync(marker, '');
      return statSync(marker, { bigint: true }).ctimeNs;
    } catch {
      return undefined;
    }
  }

  /** Writes the entries this check used (so entries of old inputs fall out), if anything changed. */
  save(): void {
    if (!this.file) return;
    if (!this.changed && this.used.size === Object.keys(this.stored).length) return;
    const body = JSON.stringify({ format: CACHE_FORMAT, entries: Object.fromEntries(this.used) });
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      makeFolders(join(this.file, '..'));
      writeFileSync(temp, body);
      renameSync(temp, this.file);
    } catch {
      // A read-only or full disk: the next check compiles again, which is all the cache saves.
    }
  }
}

/**
 * mkdir -p, one level at a time: Node 20's recursive mkdirSync never returns for some paths it
 * cannot create (under /proc it loops), and the cache folder is whatever XDG_CACHE_HOME says.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    if (dirname(d) === d) break;
    missing.unshift(d);
  }
  for (const d of missing) mkdirSync(d);
}

/** Bumped when the shape of an entry changes: entries of another format are ignored. */
const CACHE_FORMAT = 1;

function readEntries(file: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; entries?: unknown };
    if (parsed.format === CACHE_FORMAT && parsed.entries && typeof parsed.entries === 'object' && !Array.isArray(parsed.entries)) {
      return parsed.entries as Record<string, unknown>;
    }
  } catch {
    // Absent, unreadable or not JSON: start empty; save() replaces it.
  }
  return {};
}

/** The user's cache folder for check (XDG Base Directory spec; `~/.cache` when XDG_CACHE_HOME is unset or relative). */
export function checkCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'dropkit', 'check');
}

/** The key of an entry: a hash of every input its answer depends on, plus dropkit's version. */
export function cacheKey(kind: string, inputs: unknown): string {
  return sha256Hex(JSON.stringify([kind, TOOLKIT_VERSION, inputs]));
}

/**
 * What the schema of each source depends on: its declaration and, for each file it names (a glob:
 * the files it matches now), the file's identity. A rewritten file has a new mtime or size (and
 * ctime, which even `touch -r` cannot set back). Undefined when a source names no file: then
 * there is nothing to trust, and the engine says what is wrong.
 */
export function sourcesIdentity(sources: Readonly<Record<string, LocalSource>>): unknown {
  const out: unknown[] = [];
  for (const name of Object.keys(sources).sort()) {
    const { path, format } = sources[name];
    const files = matchingFiles(path).sort();
    if (files.length === 0) return undefined;
    const identities = files.map((file) => identityOf(file).text);
    if (identities.some((i) => i.endsWith('\0absent'))) return undefined;
    out.push({ name, path, format, files: identities });
  }
  return out;
}

/**
 * The version of a package as installed (its package.json, read without loading the package), or
 * undefined when it is not installed.
 */
export function installedVersion(name: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version?: string; dependencies?: Record<string, string> };
    return [pkg.version, ...Object.entries(pkg.dependencies ?? {}).map(([d, v]) => `${d}@${v}`)].join(' ');
  } catch {
    return undefined;
  }
}

/** What a remembered answer was computed from: folders read whole, single files, and the sources. */
export interface Inputs {
  /** Folders whose every file (below them too) counts, but those under `skip`. */
  readonly trees: readonly string[];
  readonly skip: readonly string[];
  /** Files (or folders) outside those trees, by their own identity: present or not, and which. */
  readonly files: readonly string[];
  readonly sources: Readonly<Record<string, LocalSource>>;
}

/** Past this many entries a project is not remembered whole: listing it would cost what it saves. */
const MAX_INPUT_ENTRIES = 20_000;

/**
 * One hash of the identity of every input: each file's and folder's path, size, mtime, ctime and
 * inode (a folder's change when an entry comes or goes), each source's files. Undefined when there
 * is too much to list, a source names no file, or (with `changedSince`, a file clock reading taken
 * before the inputs were read) an input changed at or after it: it may have changed while it was
 * read, and what was read must not be remembered under what is there now.
 */
export function inputsIdentity(inputs: Inputs, changedSince?: bigint): string | undefined {
  const lines: string[] = [];
  const skip = new Set(inputs.skip);
  let newest = 0n;
  const add = (path: string) => {
    const id = identityOf(path);
    lines.push(id.text);
    if (id.ctimeNs > newest) newest = id.ctimeNs;
  };
  const walk = (dir: string): boolean => {
    add(dir);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return true;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (lines.length > MAX_INPUT_ENTRIES) return false;
      const path = join(dir, e.name);
      if (skip.has(path)) continue;
      // Symlinked folders are not followed (no loops); what they hold that counts is listed apart.
      if (e.isDirectory()) {
        if (!walk(path)) return false;
      } else add(path);
    }
    return true;
  };
  for (const tree of inputs.trees) if (!walk(tree)) return undefined;
  for (const file of inputs.files) add(file);
  const sources = sourcesIdentity(inputs.sources);
  if (sources === undefined) return undefined;
  if (changedSince !== undefined && newest >= changedSince) return undefined;
  return sha256Hex(JSON.stringify([lines, sources]));
}

function identityOf(path: string): { text: string; ctimeNs: bigint } {
  try {
    const s = statSync(path, { bigint: true });
    return { text: `${path}\0${s.isDirectory() ? 'dir' : 'file'}\0${s.size}\0${s.mtimeNs}\0${s.ctimeNs}\0${s.ino}\0${s.dev}`, ctimeNs: s.ctimeNs };
  } catch {
    return { text: `${path}\0absent`, ctimeNs: 0n };
  }
}
