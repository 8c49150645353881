import type { DropEvent, Notifier, NotifyOutcome } from '../../core/ports/notifier';
import { eventText } from '../../core/notices/event-text';

/** One human-readable line per event, for local runs and operators watching a terminal. */
export class ConsoleNotifier implements Notifier {
  readonly target = 'console';
  private readonly write: (line: string) => void;

  constructor(options: { readonly write?: (line: string) => void } = {}) {
    // stderr: stdout stays free for machine-readable command output.
    this.write = options.write ?? ((line) => void process.stderr.write(`${line}\n`));
  }

  async notify(event: DropEvent): Promise<NotifyOutcome> {
    try {
      this.write(formatDropEvent(event));
      return { target: this.target, status: 'sent', attempts: 1 };
    } catch (err) {
      return { target: this.target, status: 'failed', attempts: 1, detail: err instanceof Error ? err.message : String(err) };
    }
  }
}

/**
 * e.g. `[dropkit] drop.delivered daily_orders (partner acme) slot 20240115T060000Z run <id>: 1234 rows, 2 files, SLA MET`
 * or `[dropkit] run.failed daily_orders slot ... run <id>: validate failed: ValidationFailedError: ...`.
 */
export function formatDropEvent(event: DropEvent): string {
  // Notices other than a delivery or a failed run read best as their e-mail subject.
  if (event.type !== 'drop.delivered' && event.type !== 'run.failed') return eventText(event).subject;
  const partner = event.partner ? ` (partner ${event.partner})` : '';
  const head = `[dropkit] ${event.type} ${event.feed}${partner} slot ${event.slot} run ${event.runId}`;
  if (event.type === 'run.failed') {
    const e = event.error;
    return e ? `${head}: ${e.step} failed: ${e.name}: ${e.message}` : `${head}: failed`;
  }
  const parts: string[] = [];
  const rows = event.rowCount ?? event.files?.reduce((sum, f) => sum + f.rows, 0);
  if (rows !== undefined) parts.push(`${rows} ${rows === 1 ? 'row' : 'rows'}`);
  if (event.files) parts.push(`${event.files.length} ${event.files.length === 1 ? 'file' : 'files'}`);
  if (event.sla) parts.push(`SLA ${event.sla.status}`);
  return parts.length > 0 ? `${head}: ${parts.join(', ')}` : head;
}
