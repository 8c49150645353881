import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The built CLI (`npm test` builds it first). */
export const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'dropkit.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `dropkit` as a child process, with pipes (so not a terminal), and collects its output. */
export function dropkit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
