import { execFile } from 'node:child_process';
import { venvBin } from './venv';

export interface PythonResult {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly code: number;
}

/** Runs Python code from .venv-aws (stdlib, pandas, pyarrow, duckdb) with arguments; never throws on exit code. */
export function runPython(code: string, args: readonly string[] = [], options: { cwd?: string; timeoutMs?: number } = {}): Promise<PythonResult> {
  return new Promise((resolve, reject) => {
    execFile(
      venvBin('python'),
      ['-c', code, ...args],
      { cwd: options.cwd, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ stdout, stderr: stderr.toString('utf8'), code: typeof error?.code === 'number' ? error.code : 0 });
      },
    );
  });
}

/** Downloads a URL with Python's urllib, the way a partner's script would, and returns the bytes. */
export async function urllibGet(url: string): Promise<Buffer> {
  const out = await runPython('import sys, urllib.request\nwith urllib.request.urlopen(sys.argv[1]) as r: sys.stdout.buffer.write(r.read())', [url]);
  if (out.code !== 0) throw new Error(`urllib could not download ${url}:\n${out.stderr}`);
  return out.stdout;
}
