import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake API does to one request: answer it, or one of the faults a real API has. */
export type Fault =
  | { kind: 'ok' }
  | { kind: '429'; retryAfter: string }
  | { kind: '500' }
  | { kind: 'timeout' }
  | { kind: 'reject'; indices: number[]; message: string }
  | { kind: '400' };

/**
 * A CRM-like API on loopback for the reverse-ETL tests: keeps records by key, honours
 * Idempotency-Key (a repeated key is answered as before and applied once), checks the bearer
 * token, and plays faults from a script, one per request.
 */
export class FakeApi {
  readonly records = new Map<string, Record<string, unknown>>();
  /** Every request, in order: its idempotency key and what was answered. */
  readonly log: { key: string; status: number; op: string; rows: number }[] = [];
  /** Idempotency keys applied (each applied once). */
  readonly applied: string[] = [];
  faults: Fault[] = [];
  private readonly answers = new Map<string, { status: number; body: string }>();
  private server!: Server;
  url = '';

  constructor(
    readonly token: string,
    readonly keyField: string,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/contacts/batch`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const key = String(req.headers['idempotency-key'] ?? '');
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { op: string; rows: Record<string, unknown>[] };
    const answer = (status: number, text = '', headers: Record<string, string> = {}) => {
      this.log.push({ key, status, op: body.op, rows: body.rows?.length ?? 0 });
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return answer(401, '{"error":"bad token"}');
    const earlier = this.answers.get(key);
    if (earlier) return answer(earlier.status, earlier.body);
    const fault = this.faults.shift();
    if (fault?.kind === 'timeout') return void this.log.push({ key, status: 0, op: body.op, rows: body.rows.length }); // never answers
    if (fault?.kind === '429') return answer(429, '{"error":"slow down"}', { 'retry-after': fault.retryAfter });
    if (fault?.kind === '500') return answer(500, '{"error":"boom"}');
    if (fault?.kind === '400') return answer(400, '{"error":"schema mismatch"}');
    const rejected = fault?.kind === 'reject' ? fault.indices : [];
    body.rows.forEach((row, i) => {
      if (rejected.includes(i)) return;
      const id = String(row[this.keyField]);
      if (body.op === 'delete') this.records.delete(id);
      else if (body.op === 'insert' && this.records.has(id)) return;
      else this.records.set(id, { ...(this.records.get(id) ?? {}), ...row });
    });
    this.applied.push(key);
    const text = JSON.stringify({ errors: rejected.map((index) => ({ index, message: fault?.kind === 'reject' ? fault.message : '' })) });
    this.answers.set(key, { status: 200, body: text });
    answer(200, text);
  }
}
