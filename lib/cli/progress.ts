import type { StepName } from '../core/run-record';

/**
 * One status line on a terminal, rewritten in place: the step of the current run, rows and bytes
 * as they are written, and for a backfill how many slots are done. Off for --json and whenever
 * the output is not a terminal, so logs and pipes get no progress noise.
 */
export interface Progress {
  run(label: string): void;
  step(step: StepName): void;
  written(format: string, rows: number, bytes: number): void;
  slots(done: number, total: number): void;
  /** Erases the line before normal output is printed. */
  clear(): void;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

const SILENT: Progress = { run() {}, step() {}, written() {}, slots() {}, clear() {} };

export function createProgress(options: { json: boolean; stream?: ProgressStream; now?: () => number }): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.json || !stream.isTTY) return SILENT;
  const now = options.now ?? Date.now;
  const state = { label: '', step: '', detail: '', slots: '' };
  let shown = false;
  let last = 0;
  const render = (force: boolean) => {
    if (!force && now() - last < 100) return; // at most ten redraws a second
    last = now();
    const text = [state.slots, state.label, state.step, state.detail].filter(Boolean).join('  ');
    const width = Math.max(20, (stream.columns || 80) - 1);
    stream.write(`\r\x1b[2K${text.length > width ? text.slice(0, width - 1) + '…' : text}`);
    shown = true;
  };
  return {
    run(label) {
      Object.assign(state, { label, step: '', detail: '' });
      render(true);
    },
    step(step) {
      Object.assign(state, { step, detail: '' });
      render(true);
    },
    written(format, rows, bytes) {
      state.detail = `${format}: ${rows.toLocaleString('en-US')} rows, ${formatBytes(bytes)}`;
      render(false);
    },
    slots(done, total) {
      state.slots = `[${done}/${total} slots]`;
      render(true);
    },
    clear() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
