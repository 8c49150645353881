import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FeedDefinition } from '../core/feed/feed-definition';
import { DeployConfigError } from './errors';

/**
 * Where dropkit is (its package.json), and the lock file the bundler keys on: dropkit's own in a
 * checkout, the installing project's when dropkit is a dependency.
 */
export function packageRoots(): { dropkit: string; lockFile: string } {
  const up = (from: string, found: (dir: string) => boolean, what: string) => {
    let dir = from;
    while (!found(dir)) {
      const parent = dirname(dir);
      if (parent === dir) throw new DeployConfigError(`FileExchange: cannot find ${what} above ${from}`);
      dir = parent;
    }
    return dir;
  };
  // In the package, the nearest is dist/package.json (tsc copies it there for lib/version.ts); its
  // handlers are then dist/lambdas/*.js, which lambdaEntry looks for under that root.
  const dropkit = up(
    __dirname,
    (d) => existsSync(join(d, 'package.json')) && JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === PACKAGE_NAME,
    `the ${PACKAGE_NAME} package.json`,
  );
  const lockDir = up(dropkit, (d) => LOCK_FILES.some((f) => existsSync(join(d, f))), `a lock file (${LOCK_FILES.join(', ')})`);
  return {
    dropkit,
    lockFile: join(
      lockDir,
      LOCK_FILES.find((f) => existsSync(join(lockDir, f)))!,
    ),
  };
}

/** The npm package this code ships in. */
export const PACKAGE_NAME = 'dropkit-files';
/** Lock files the bundler keys on, as npm, pnpm, yarn and bun write them. */
const LOCK_FILES = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lockb'];

/** The handler's TypeScript source when it is there (a checkout), else its compiled JavaScript. */
export function lambdaEntry(root: string, file: string): string {
  for (const candidate of [join(root, 'lambdas', `${file}.ts`), join(root, 'dist', 'lambdas', `${file}.js`), join(root, 'lambdas', `${file}.js`)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new DeployConfigError(`FileExchange: no Lambda handler lambdas/${file} under ${root}`);
}

/** Writes the feeds the Lambdas take at cold start (validated again there); named by content, so a change makes a new bundle. */
export function writeFeedsFile(feeds: readonly FeedDefinition[]): string {
  const body = JSON.stringify({ feeds }) + '\n';
  const dir = join(tmpdir(), 'dropkit-cdk');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `feeds-${createHash('sha256').update(body).digest('hex').slice(0, 16)}.json`);
  writeFileSync(file, body);
  return file;
}
