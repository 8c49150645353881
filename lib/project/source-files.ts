import { readdirSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { join, parse, sep } from 'node:path';

const GLOB_CHARS = /[*?[]/;

/**
 * Whether an absolute source path, or glob in DuckDB's syntax (`*`, `?`, `[abc]`, `**` for any
 * folders), names at least one readable file. A folder alone is not a source: no reader takes one.
 * Stops at the first match, and does not follow symlinked folders under `**` (no loops).
 */
export function sourceMatchesAFile(absolute: string): boolean {
  if (!GLOB_CHARS.test(absolute)) return isFile(absolute);
  const { root } = parse(absolute);
  return anyMatch(
    root,
    absolute
      .slice(root.length)
      .split(sep)
      .filter((s) => s !== ''),
  );
}

function anyMatch(dir: string, segments: readonly string[]): boolean {
  if (segments.length === 0) return isFile(dir);
  const [head, ...rest] = segments;
  if (head === '**') {
    if (anyMatch(dir, rest)) return true; // ** may stand for no folder at all
    return entries(dir).some((e) => e.isDirectory() && anyMatch(join(dir, e.name), segments));
  }
  if (!GLOB_CHARS.test(head)) return anyMatch(join(dir, head), rest);
  const pattern = segmentPattern(head);
  return entries(dir).some((e) => pattern.test(e.name) && anyMatch(join(dir, e.name), rest));
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
