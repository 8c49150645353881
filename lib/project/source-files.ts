import { readdirSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { dirname, join, parse, sep } from 'node:path';

const GLOB_CHARS = /[*?[]/;

/**
 * Whether an absolute source path, or glob in DuckDB's syntax (`*`, `?`, `[abc]`, `**` for any
 * folders), names at least one readable file. A folder alone is not a source: no reader takes one.
 * Stops at the first match, and does not follow symlinked folders under `**` (no loops).
 */
export function sourceMatchesAFile(absolute: string): boolean {
  return matchingFiles(absolute, 1).length > 0;
}

/** The files an absolute source path or glob names (up to `limit`), in the order found. */
export function matchingFiles(absolute: string, limit = Infinity): string[] {
  if (!GLOB_CHARS.test(absolute)) return isFile(absolute) ? [absolute] : [];
  const { root } = parse(absolute);
  const found: string[] = [];
  collect(
    root,
    absolute
      .slice(root.length)
      .split(sep)
      .filter((s) => s !== ''),
    found,
    limit,
  );
  return [...new Set(found)];
}

/** The folder a glob is rooted at (everything before its first glob segment); a plain path's own folder. */
export function globRootOf(absolute: string): string {
  const segments = absolute.split(sep);
  const first = segments.findIndex((s) => GLOB_CHARS.test(s) || s.includes('{'));
  return first === -1 ? dirname(absolute) : segments.slice(0, first).join(sep) || sep;
}

export function isGlob(path: string): boolean {
  return GLOB_CHARS.test(path) || path.includes('{');
}

function collect(dir: string, segments: readonly string[], found: string[], limit: number): void {
  if (found.length >= limit) return;
  if (segments.length === 0) {
    if (isFile(dir)) found.push(dir);
    return;
  }
  const [head, ...rest] = segments;
  if (head === '**') {
    collect(dir, rest, found, limit); // ** may stand for no folder at all
    for (const e of entries(dir)) if (e.isDirectory()) collect(join(dir, e.name), segments, found, limit);
    return;
  }
  if (!GLOB_CHARS.test(head)) return collect(join(dir, head), rest, found, limit);
  const pattern = segmentPattern(head);
  for (const e of entries(dir)) if (pattern.test(e.name)) collect(join(dir, e.name), rest, found, limit);
}

/** One path segment of a glob as a regular expression. */
function segmentPattern(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[' && glob.indexOf(']', i + 2) > i) {
      const end = glob.indexOf(']', i + 2);
      const body = glob
        .slice(i + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\');
      re += `[${body}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
