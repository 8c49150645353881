import { ConfigError } from '../../core/errors';
import { backoffDelay, sleep } from '../../core/retry';
import { retryAfterMs } from '../http/retry-after';
import type { WebhookTarget } from '../../core/feed/feed-schema';
import type { DropEvent, Notifier, NotifyOutcome } from '../../core/ports/notifier';
import { EVENT_HEADER, IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './webhook-signature';

export const WEBHOOK_USER_AGENT = 'dropkit-webhook/1';

export interface WebhookNotifierOptions {
  readonly url: string;
  /** HMAC secret shared with the receiver. */
  readonly secret: string;
  /** Total tries, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** Backoff cap before the first retry; doubles per retry (full jitter). Default 1000 ms. */
  readonly baseDelayMs?: number;
  /** Upper bound for a backoff wait. Default 30000 ms. */
  readonly maxDelayMs?: number;
  /**
   * The longest Retry-After honoured (in full). A receiver asking for more is not retried in this
   * run: the notice fails at once and can be sent again later. Default 30000 ms.
   */
  readonly maxRetryAfterMs?: number;
  /** Per-attempt timeout. Default 10000 ms. */
  readonly timeoutMs?: number;
  /** Time for one notice, every attempt and wait included; no attempt or wait starts past it. Default 60000 ms. */
  readonly totalBudgetMs?: number;
  /** Circuit breakers by endpoint. Default: the ones shared by every webhook notifier of the process. */
  readonly breakers?: WebhookCircuitBreakers;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: () => Date;
  /** Source of jitter in [0, 1); injectable for deterministic tests. Default Math.random. */
  readonly random?: () => number;
}

/** Statuses worth another try: the receiver (or a proxy) may succeed later. Other 4xx will not. */
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

type AttemptResult =
  | { readonly kind: 'sent'; readonly detail: string }
  | { readonly kind: 'retry'; readonly detail: string; readonly retryAfterMs?: number }
  | { readonly kind: 'fatal'; readonly detail: string };

export interface WebhookCircuitBreakerOptions {
  /** Consecutive failed notices (the endpoint down, not refusing) that open an endpoint's circuit. Default 2. */
  readonly failuresToOpen?: number;
  /** How long an open circuit skips notices before one is tried again. Default 5 minutes. */
  readonly cooldownMs?: number;
  /** Monotonic milliseconds; injectable for tests. */
  readonly now?: () => number;
}

/**
 * One circuit breaker per endpoint URL. After `failuresToOpen` consecutive notices that found the
 * endpoint down (timeouts, network errors, 5xx/429 to the last attempt), later notices to it are
 * failed at once without a request, so `run --all` and backfills do not queue behind a dead
 * receiver. After the cool-down one notice is tried again; a delivered notice closes the circuit.
 */
export class WebhookCircuitBreakers {
  private readonly failuresToOpen: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly circuits = new Map<string, { failures: number; openedAt: number | null }>();

  constructor(options: WebhookCircuitBreakerOptions = {}) {
    this.failuresToOpen = Math.max(1, Math.floor(options.failuresToOpen ?? 2));
    this.cooldownMs = Math.max(0, options.cooldownMs ?? 5 * 60_000);
    this.now = options.now ?? (() => performance.now());
  }

  /** The failures that opened the endpoint's circuit, or null when a notice may be attempted. */
  openedAfter(endpoint: string): number | null {
    const circuit = this.circuits.get(endpoint);
    if (!circuit || circuit.openedAt === null) return null;
    if (this.now() - circuit.openedAt >= this.cooldownMs) return null; // half-open: one more try
    return circuit.failures;
  }

  /** The endpoint answered (delivered, or refused with a 4xx): it is up. */
  reachable(endpoint: string): void {
    this.circuits.delete(endpoint);
  }

  unavailable(endpoint: string): void {
    const circuit = this.circuits.get(endpoint) ?? { failures: 0, openedAt: null };
    circuit.failures += 1;
    if (circuit.failures >= this.failuresToOpen) circuit.openedAt = this.now();
    this.circuits.set(endpoint, circuit);
  }
}

/** Shared by every webhook notifier of the process, so the runs of one `--all` or backfill share what they learnt. */
export const processWebhookBreakers = new WebhookCircuitBreakers();

/**
 * POSTs each event as signed JSON to one URL, retrying transient failures with exponential backoff
 * and full jitter. Every attempt carries the same `Idempotency-Key` (the event id), so a receiver
 * that got an earlier attempt but whose answer was lost can drop the duplicate.
 */
export class WebhookNotifier implements Notifier {
  /** `webhook <origin+path>`: the query string is left out because it may hold tokens. */
  readonly target: string;
  private readonly url: string;
  private readonly secret: string;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly timeoutMs: number;
  private readonly totalBudgetMs: number;
  private readonly breakers: WebhookCircuitBreakers;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: () => Date;
  private readonly random: () => number;

  constructor(options: WebhookNotifierOptions) {
    const parsed = new URL(options.url); // throws on a malformed URL: a setup error, not a delivery failure
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`webhook URL must be http(s), got ${parsed.protocol}`);
    }
    if (!options.secret) throw new TypeError('webhook secret must not be empty');
    this.target = `webhook ${parsed.origin}${parsed.pathname}`;
    this.url = options.url;
    this.secret = options.secret;
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 5));
    this.baseDelayMs = Math.max(0, options.baseDelayMs ?? 1000);
    this.maxDelayMs = Math.max(0, options.maxDelayMs ?? 30_000);
    this.maxRetryAfterMs = Math.max(0, options.maxRetryAfterMs ?? 30_000);
    this.timeoutMs = Math.max(1, options.timeoutMs ?? 10_000);
    this.totalBudgetMs = Math.max(1, options.totalBudgetMs ?? 60_000);
    this.breakers = options.breakers ?? processWebhookBreakers;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? sleep;
    this.clock = options.clock ?? (() => new Date());
    this.random = options.random ?? Math.random;
  }

  /**
   * Sends the event, retrying within the notice's time budget. Calling it again for the same event
   * (a re-send) sends the same body and Idempotency-Key, so a receiver that did get it drops the copy.
   */
  async notify(event: DropEvent): Promise<NotifyOutcome> {
    const openedAfter = this.breakers.openedAfter(this.url);
    if (openedAfter !== null) return this.outcome('failed', 0, `endpoint unavailable; skipped after ${openedAfter} failures`);
    let attempts = 0;
    let detail = 'not attempted';
    let reachable = false;
    // Attempts are timed for real; waits count as asked, so an injected sleep keeps the accounting.
    let spentMs = 0;
    const budget = `the ${seconds(this.totalBudgetMs)} budget for this notice`;
    try {
      const body = JSON.stringify(event);
      while (attempts < this.maxAttempts) {
        const leftMs = this.totalBudgetMs - spentMs;
        if (leftMs < 1) {
          detail += `; gave up: ${budget} is spent`;
          break;
        }
        attempts += 1;
        const started = performance.now();
        const result = await this.attempt(event, body, Math.min(this.timeoutMs, Math.ceil(leftMs)));
        spentMs += performance.now() - started;
        detail = result.detail;
        if (result.kind === 'sent') {
          this.breakers.reachable(this.url);
          return this.outcome('sent', attempts, detail);
        }
        if (result.kind === 'fatal') {
          reachable = true; // a refusal (4xx, a redirect) is an answer, and a quick one: the endpoint is up
          break;
        }
        if (attempts >= this.maxAttempts) break;
        if (result.retryAfterMs !== undefined && result.retryAfterMs > this.maxRetryAfterMs) {
          detail += `; the receiver asked to retry after ${seconds(result.retryAfterMs)}, longer than the ${seconds(this.maxRetryAfterMs)} a run waits (maxRetryAfterMs)`;
          break;
        }
        const waitMs = this.delayBefore(attempts + 1, result.retryAfterMs);
        if (spentMs + waitMs >= this.totalBudgetMs) {
          detail += `; gave up: another attempt would pass ${budget}`;
          break;
        }
        await this.sleep(waitMs);
        spentMs += waitMs;
      }
    } catch (err) {
      // Only reachable through injected sleep/clock or an unserialisable event; still never throw.
      return this.outcome('failed', attempts, describeError(err));
    }
    if (reachable) this.breakers.reachable(this.url);
    else this.breakers.unavailable(this.url);
    return this.outcome('failed', attempts, detail);
  }

  private async attempt(event: DropEvent, body: string, timeoutMs: number): Promise<AttemptResult> {
    // Fresh timestamp per attempt: a retry after a long backoff must still pass the receiver's tolerance.
    const timestamp = String(Math.floor(this.clock().getTime() / 1000));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': WEBHOOK_USER_AGENT,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(this.secret, timestamp, body),
          [EVENT_HEADER]: event.type,
          [IDEMPOTENCY_KEY_HEADER]: event.id,
        },
        body,
        // A redirect could send the signed event to a host nobody configured.
        redirect: 'manual',
        signal: controller.signal,
      });
      // The body is never needed; cancelling it frees the connection.
      await response.body?.cancel().catch(() => undefined);
      const status = response.status;
      if (status >= 200 && status < 300) return { kind: 'sent', detail: `HTTP ${status}` };
      if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
        return { kind: 'fatal', detail: `HTTP ${status || 'redirect'} (redirects are not followed)` };
      }
      if (status >= 500 || RETRYABLE_STATUSES.has(status)) {
        return { kind: 'retry', detail: `HTTP ${status}`, retryAfterMs: retryAfterMs(response.headers.get('retry-after'), this.clock()) };
      }
      return { kind: 'fatal', detail: `HTTP ${status}` };
    } catch (err) {
      if (controller.signal.aborted) return { kind: 'retry', detail: `timed out after ${timeoutMs} ms` };
      return { kind: 'retry', detail: describeError(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Full jitter: uniform in [0, min(max, base * 2^(retry-1))]; Retry-After (within its cap) wins when the server sent one. */
  private delayBefore(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return retryAfterMs;
    return Math.floor(backoffDelay(attempt - 1, { baseMs: this.baseDelayMs, maxMs: this.maxDelayMs, jitter: 1 }, this.random));
  }

  private outcome(status: 'sent' | 'failed', attempts: number, detail: string): NotifyOutcome {
    return { target: this.target, status, attempts, detail };
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * Undici reports network failures as `TypeError: fetch failed` with the real reason (e.g.
 * ECONNREFUSED) in `cause`. Duck-typed: errors from Node internals may come from another realm.
 */
function describeError(err: unknown): string {
  const message = errorText(err);
  const cause = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
  const causeText = cause === undefined ? '' : errorText(cause);
  return causeText && causeText !== message ? `${message}: ${causeText}` : message;
}

function errorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { message, code, name, errors } = err as { message?: unknown; code?: unknown; name?: unknown; errors?: unknown };
  if (typeof message === 'string' && message) return message;
  if (typeof code === 'string') return code;
  // AggregateError (several addresses tried) may have an empty message of its own.
  if (Array.isArray(errors) && errors.length > 0) return errors.map(errorText).join('; ');
  return typeof name === 'string' ? name : String(err);
}

/**
 * Builds a notifier for a feed's `webhook` target, reading the secret from the environment
 * variable the feed names (secrets never live in feed files).
 * @throws ConfigError when that variable is unset or empty.
 */
export function webhookNotifierFromTarget(
  target: WebhookTarget,
  env: NodeJS.ProcessEnv = process.env,
  feedFile = '<feed>',
  overrides: Omit<WebhookNotifierOptions, 'url' | 'secret' | 'maxAttempts'> = {},
): WebhookNotifier {
  const secret = target.secretEnv ? env[target.secretEnv] : undefined;
  if (secret === undefined || secret === '') {
    throw new ConfigError([
      {
        file: feedFile,
        path: 'notify.secretEnv',
        message: `environment variable ${target.secretEnv} holding the webhook secret for ${redactedUrl(target.url)} is ${secret === undefined ? 'not set' : 'empty'}`,
        value: target.secretEnv,
        fix: `export ${target.secretEnv}=<the shared HMAC secret> before running dropkit`,
      },
    ]);
  }
  return new WebhookNotifier({ ...overrides, url: target.url, secret, maxAttempts: target.maxAttempts });
}

function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
