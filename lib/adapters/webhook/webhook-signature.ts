import { createHmac, timingSafeEqual } from 'node:crypto';

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export const SIGNATURE_HEADER = 'X-Dropkit-Signature';
/** Unix seconds at which the request was signed; covered by the signature. */
export const TIMESTAMP_HEADER = 'X-Dropkit-Timestamp';
/** The event type, e.g. `drop.delivered`, so receivers can route before parsing the body. */
export const EVENT_HEADER = 'X-Dropkit-Event';
/** The event id (derived from the runId): the same on every retry of one event. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

const VERSION_PREFIX = 'v1=';

/**
 * Signs a webhook body: `v1=` followed by the hex HMAC-SHA256 of `${timestamp}.${body}` under `secret`.
 * The timestamp is inside the signed text so a captured request cannot be replayed with a fresh one.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `${VERSION_PREFIX}${mac}`;
}

export interface VerifyWebhookSignatureInput {
  readonly secret: string;
  /** The `X-Dropkit-Timestamp` header: unix seconds. */
  readonly timestamp: string | undefined;
  /** The raw request body exactly as received (verify before parsing: re-serialised JSON differs). */
  readonly body: string;
  /** The `X-Dropkit-Signature` header. */
  readonly signature: string | undefined;
  /** How far the timestamp may be from `now`, either way. Default 300 s. */
  readonly toleranceSeconds?: number;
  readonly now?: Date;
}

/**
 * Checks a webhook request as a receiver should: the signature matches (compared in constant time)
 * and the timestamp is within `toleranceSeconds` of `now` (rejects replays of old requests).
 * Returns false, never throws, for missing or malformed headers.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { verifyWebhookSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER, IDEMPOTENCY_KEY_HEADER } from 'dropkit-files';
 *
 * http.createServer((req, res) => {
 *   const chunks: Buffer[] = [];
 *   req.on('data', (c: Buffer) => chunks.push(c));
 *   req.on('end', () => {
 *     const body = Buffer.concat(chunks).toString('utf8');
 *     const ok = verifyWebhookSignature({
 *       secret: process.env.DROPKIT_WEBHOOK_SECRET!,
 *       timestamp: req.headers[TIMESTAMP_HEADER.toLowerCase()] as string | undefined,
 *       signature: req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined,
 *       body,
 *     });
 *     if (!ok) return void res.writeHead(401).end();
 *     // Retries carry the same key: skip events already handled.
 *     const key = req.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
 *     handleOnce(key, JSON.parse(body));
 *     res.writeHead(204).end();
 *   });
 * }).listen(8080);
 * ```
 */
export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): boolean {
  const { secret, timestamp, body, signature, toleranceSeconds = 300, now = new Date() } = input;
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || typeof body !== 'string') return false;
  // Digits only: `Number()` would accept " 1e9" or "0x10", which a signer never sends.
  if (!/^\d{1,15}$/.test(timestamp)) return false;
  const ageSeconds = Math.abs(now.getTime() / 1000 - Number(timestamp));
  if (!(ageSeconds <= toleranceSeconds)) return false;

  const expected = Buffer.from(signWebhook(secret, timestamp, body), 'utf8');
  const given = Buffer.from(signature.trim(), 'utf8');
  // timingSafeEqual throws on unequal lengths; the length of a hex MAC is public anyway.
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}
