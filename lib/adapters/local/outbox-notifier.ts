import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DropEvent, Notifier, NotifyOutcome } from '../../core/ports/notifier';

/**
 * Local stand-in for SNS/EventBridge: appends each event as one JSON line to a file, so a local
 * run leaves the same messages a consumer would receive, in order, for inspection or replay.
 */
export class OutboxNotifier implements Notifier {
  readonly target: string;
  private readonly file: string;

  constructor(options: { readonly file: string }) {
    this.file = options.file;
    this.target = `outbox ${options.file}`;
  }

  async notify(event: DropEvent): Promise<NotifyOutcome> {
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      // One write per line: appends of a single small buffer do not interleave with other writers.
      await appendFile(this.file, `${JSON.stringify(event)}\n`, 'utf8');
      return { target: this.target, status: 'sent', attempts: 1 };
    } catch (err) {
      return { target: this.target, status: 'failed', attempts: 1, detail: err instanceof Error ? err.message : String(err) };
    }
  }
}
