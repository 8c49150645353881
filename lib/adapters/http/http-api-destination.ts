import type { DeliveryFile, DeliveryInput, DeliveryProgress, Destination } from '../../core/ports/destination';
import { backoffDelay, sleep } from '../../core/retry';
import { retryAfterMs } from './retry-after';
import { deadLetterPrefix } from '../../core/layout';

/**
 * Reverse ETL: a drop's rows (or its change set) sent to an operational system's HTTP API in
 * batches. The wire contract, which a receiver implements:
 *
 *   POST <url>
 *   Authorization: Bearer <token>
 *   Idempotency-Key: <runId>:<destination>:<op>:<batch>     the same on every retry of a batch
 *   {"op": "upsert" | "insert" | "update" | "delete", "rows": [{<field>: <value>, ...}, ...]}
 *
 * A 2xx answer accepts the batch; its JSON body may list rows it rejected:
 * `{"errors": [{"index": 3, "message": "email is invalid"}]}` (index into `rows`). 429 and 503 are
 * retried after their Retry-After; other 5xx, 408, timeouts and network errors with backoff; any
 * 401/403 stop the sync (resumed later); any other 4xx rejects the whole batch. Rejected rows go to a dead-letter file kept with the run.
 */
export interface HttpApiDestinationOptions {
  readonly name: string;
  readonly url: string;
  readonly token: string;
  /** Column → JSON field. Unmapped columns are not sent. */
  readonly mapping: Readonly<Record<string, string>>;
  readonly primaryKey?: readonly string[];
  readonly batchSize?: number;
  readonly requestsPerSecond?: number;
  readonly maxAttempts?: number;
  readonly timeoutMs?: number;
  /** Longest Retry-After honoured; a receiver asking for more fails the delivery (resumed later). Default 60 s. */
  readonly maxRetryAfterMs?: number;
  readonly baseDelayMs?: number;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds, for the rate limit. */
  readonly now?: () => number;
  /** For Retry-After given as an HTTP date. */
  readonly clock?: () => Date;
}

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

interface Rejected {
  readonly index: number;
  readonly message: string;
}

type Attempt =
  | { kind: 'ok'; rejected: Rejected[] }
  | { kind: 'retry'; detail: string; waitMs?: number }
  | { kind: 'reject-all'; detail: string }
  | { kind: 'fatal'; detail: string };

export class HttpApiDestination implements Destination {
  readonly name: string;
  readonly target: string;
  private readonly batchSize: number;
  private readonly minIntervalMs: number;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly baseDelayMs: number;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly clock: () => Date;
  private nextSlot = 0;

  constructor(private readonly options: HttpApiDestinationOptions) {
    this.name = options.name;
    const u = new URL(options.url);
    this.target = `api ${u.origin}${u.pathname}`;
    this.batchSize = options.batchSize ?? 500;
    this.minIntervalMs = 1000 / (options.requestsPerSecond ?? 10);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? sleep;
    this.now = options.now ?? (() => performance.now());
    this.clock = options.clock ?? (() => new Date());
  }

  async deliver(input: DeliveryInput, progress: DeliveryProgress): Promise<void> {
    if (!input.rows) throw new Error(`destination ${this.name} sends rows and was given no row reader`);
    const orderBy = input.primaryKey ?? this.options.primaryKey ?? [];
    // One stream per operation over all its files (a drop split into parts is one sequence of batches).
    const ops = new Map<string, DeliveryFile[]>();
    for (const file of input.files) ops.set(file.op ?? 'upsert', [...(ops.get(file.op ?? 'upsert') ?? []), file]);
    for (const [op, files] of ops) await this.sendOp(op, files, input, progress, orderBy);
  }

  private async sendOp(
    op: string,
    files: readonly DeliveryFile[],
    input: DeliveryInput,
    progress: DeliveryProgress,
    orderBy: readonly string[],
  ): Promise<void> {
    let index = 0;
    // Rows come in key order, so batch n holds the same rows on every attempt: a resumed sync skips the ones sent.
    const keys = files.map((f) => f.key);
    for await (const rows of input.rows!.rows(keys, { batchRows: this.batchSize, orderBy })) {
      const unit = `${op}:${index}`;
      index++;
      if (progress.done.has(unit)) continue;
      const body = rows.map((r) => this.map(r));
      const rejected = await this.sendBatch(`${input.runId}:${this.name}:${unit}`, op, body);
      if (rejected.length) {
        const lines =
          rejected.map((r) => JSON.stringify({ op, batch: index - 1, index: r.index, row: body[r.index] ?? null, error: r.message })).join('\n') + '\n';
        await input.store.put(`${deadLetterPrefix(input.runPrefix)}${op}-${String(index - 1).padStart(6, '0')}.jsonl`, lines, {
          contentType: 'application/x-ndjson',
        });
      }
      await progress.markDone(unit, { rowsSent: body.length - rejected.length, rowsRejected: rejected.length });
    }
  }

  /** Mapped columns only; a delete's rows hold only the key columns, so only the key fields go. */
  private map(row: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [column, field] of Object.entries(this.options.mapping)) if (column in row) out[field] = row[column];
    return out;
  }

  /** Sends one batch until it is answered; returns the rows the API rejected. Throws when it never got through. */
  private async sendBatch(key: string, op: string, rows: Record<string, unknown>[]): Promise<Rejected[]> {
    const failures: string[] = [];
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      await this.throttle();
      const result = await this.attempt(key, op, rows);
      if (result.kind === 'ok') return result.rejected;
      if (result.kind === 'reject-all') return rows.map((_, index) => ({ index, message: result.detail }));
      if (result.kind === 'fatal') throw new Error(`${this.target} refused batch ${key}: ${result.detail}`);
      failures.push(`attempt ${attempt}: ${result.detail}`);
      if (attempt === this.maxAttempts) break;
      if (result.waitMs !== undefined && result.waitMs > this.maxRetryAfterMs)
        throw new Error(
          `${this.target} asked to wait ${Math.ceil(result.waitMs / 1000)} s (Retry-After), more than the ${this.maxRetryAfterMs / 1000} s allowed; the sync resumes at batch ${key} on the next try`,
        );
      await this.sleep(result.waitMs ?? backoffDelay(attempt, { baseMs: this.baseDelayMs }));
    }
    throw new Error(`${this.target}: batch ${key} not accepted after ${this.maxAttempts} attempts (${failures.join('; ')})`);
  }

  private async throttle(): Promise<void> {
    const now = this.now();
    const wait = this.nextSlot - now;
    this.nextSlot = Math.max(now, this.nextSlot) + this.minIntervalMs;
    if (wait > 0) await this.sleep(wait);
  }

  private async attempt(key: string, op: string, rows: Record<string, unknown>[]): Promise<Attempt> {
    let response: Response;
    try {
      response = await this.fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${this.options.token}`,
          [IDEMPOTENCY_HEADER]: key,
          'user-agent': 'dropkit-destination/1',
        },
        body: JSON.stringify({ op, rows }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const e = error as Error;
      return { kind: 'retry', detail: e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : `${e.name}: ${e.message}` };
    }
    const text = await response.text().catch(() => '');
    const status = response.status;
    if (status >= 200 && status < 300) return { kind: 'ok', rejected: rejectedRows(text, rows.length) };
    const detail = `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (status === 429 || status === 503) return { kind: 'retry', detail, waitMs: retryAfterMs(response.headers.get('retry-after'), this.clock()) };
    if (status >= 500 || status === 408) return { kind: 'retry', detail };
    // Not the rows' fault: no row is dead-lettered, the sync stops and resumes here once fixed.
    if (status === 401 || status === 403) return { kind: 'fatal', detail: `${detail} (check the token in the destination's tokenEnv)` };
    return { kind: 'reject-all', detail };
  }
}

function rejectedRows(text: string, count: number): Rejected[] {
  if (!text) return [];
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [];
  }
  const errors = (body as { errors?: unknown })?.errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .map((e: { index?: unknown; message?: unknown }) => ({ index: Number(e?.index), message: String(e?.message ?? 'rejected') }))
    .filter((e) => Number.isInteger(e.index) && e.index >= 0 && e.index < count);
}

export { retryAfterMs };
