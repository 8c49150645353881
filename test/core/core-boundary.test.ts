import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

/*
 * Core knows no engine: it imports no adapter and no engine registry (not even through another
 * module), and its code names no engine. Every engine-specific fact is in the engine's dialect,
 * in its adapter folder. (ESLint checks direct imports per file; this follows the whole chain.)
 */

const root = resolve(__dirname, '..', '..');
const lib = join(root, 'lib');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The project files a module imports (type-only imports and re-exports too), resolved to paths. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.') && !spec.endsWith('.json'))
    .map((spec) => {
      const base = resolve(dirname(file), spec);
      for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
      throw new Error(`${relative(root, file)} imports ${spec}, which does not resolve`);
    });
}

/** Every module reachable from `entries`, with the chain that reached it. */
function closure(entries: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>(entries.map((e) => [e, [e]]));
  const queue = [...entries];
  while (queue.length) {
    const file = queue.shift()!;
    for (const next of importsOf(file)) {
      if (seen.has(next)) continue;
      seen.set(next, [...seen.get(file)!, next]);
      queue.push(next);
    }
  }
  return seen;
}

const CORE = tsFiles(join(lib, 'core')); // the ports live in core
const OUTSIDE_CORE = /^lib\/(adapters\/|engines\.ts|cli\/|runner\/|project\/|cdk\/|pull\/|report\/)|^lambdas\//;

/** Names and literals in the code (not comments) that name an engine. */
function engineNamesIn(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node) || ts.isLiteralExpression(node) || ts.isTemplateLiteralToken(node)) {
      const text = node.getText(source);
      if (/duckdb|athena|trino/i.test(text)) found.push(text);
    }
    node.forEachChild(visit);
  };
  visit(source);
  return found;
}

describe('core and the ports know no engine', () => {
  it('reach no adapter, engine registry or edge through any chain of imports', () => {
    const reached = closure(CORE);
    const leaks = [...reached.entries()]
      .filter(([file]) => OUTSIDE_CORE.test(relative(root, file)))
      .map(([, chain]) => chain.map((f) => relative(root, f)).join(' → '));
    expect(leaks).toEqual([]);
    // The walk does reach what core really imports, so an empty list above means something.
    expect(reached.has(join(lib, 'core', 'sql-text.ts'))).toBe(true);
  });

  it('finds a leak where there is one (the walk follows re-exports to the adapter)', () => {
    const chains = closure([join(lib, 'local.ts')]);
    expect(chains.has(join(lib, 'adapters', 'duckdb', 'duckdb-dialect.ts'))).toBe(true);
  });

  it('name no engine in code: only the feed file schema (query.duckdb / query.athena), the manifest schema (query.engine) and the store layout (Athena results area) do', () => {
    const naming = CORE.map((f) => [relative(root, f), engineNamesIn(f)] as const).filter(([, names]) => names.length);
    expect(naming.map(([f]) => f).sort()).toEqual(['lib/core/feed/feed-schema.ts', 'lib/core/layout.ts', 'lib/core/manifest-zod.ts']);
  });

  it('sees an engine name in code but not in a comment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dropkit-boundary-'));
    writeFileSync(join(dir, 'a.ts'), `// DuckDB and Athena\n/* Trino */\nexport const x = 1;\n`);
    writeFileSync(join(dir, 'b.ts'), `export const e = 'athena';\n`);
    expect(engineNamesIn(join(dir, 'a.ts'))).toEqual([]);
    expect(engineNamesIn(join(dir, 'b.ts'))).toEqual(["'athena'"]);
  });
});
