import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN } from './cli';

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles when the process has exited (it is killed with SIGKILL at the time limit). */
  readonly done: Promise<ChildResult>;
}

/** Starts the built `dropkit` as a child process, killed for sure after `limitMs`. */
export function startDropkit(args: string[], limitMs = 30_000): RunningChild {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, pid: child.pid!, done };
}
