import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, type SFTPWrapper } from 'ssh2';
import { fileDestination } from '../../core/destinations/file-delivery';
import type { Destination, FileSink } from '../../core/ports/destination';

export interface SftpSinkOptions {
  readonly host: string;
  readonly port?: number;
  readonly username: string;
  /** OpenSSH or PEM private key text. */
  readonly privateKey: string | Buffer;
  /** The server's host key fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`): any other key is refused. */
  readonly hostKeySha256: string;
  /** Remote folder drops go under. */
  readonly root: string;
  /** Until the SSH session is up. Default 30 s (as `pull`). */
  readonly connectTimeoutMs?: number;
  /** Longest stall while a file is sent. Default 60 s (as `pull`). */
  readonly idleTimeoutMs?: number;
  /** The whole delivery to this server. Default 30 min. */
  readonly deadlineMs?: number;
}

/** Thrown when the server's host key is not the pinned one: nothing is sent to it. */
export class HostKeyMismatchError extends Error {
  constructor(host: string, got: string, pinned: string) {
    super(
      `refused ${host}: its host key is ${got}, the destination pins ${pinned}. If the partner really changed keys, check the new fingerprint with them and update hostKeySha256`,
    );
    this.name = 'HostKeyMismatchError';
  }
}

/** `SHA256:<base64, no padding>`, as OpenSSH prints fingerprints. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

const NO_SUCH_FILE = 2;

/**
 * SFTP with key authentication and a pinned host key. Every file is written to a dot-name beside
 * its final name and renamed into place (posix-rename where the server has it), so the partner's
 * watchers never see half a file; the manifest goes last (deliverFiles). One session per delivery,
 * bounded by connect, idle and overall timeouts.
 */
export class SftpSink implements FileSink {
  readonly target: string;
  private session: Promise<{ client: Client; sftp: SFTPWrapper }> | undefined;
  private failure: Error | undefined;
  private deadline: NodeJS.Timeout | undefined;

  constructor(private readonly options: SftpSinkOptions) {
    this.target = `sftp ${options.username}@${options.host}:${options.port ?? 22}${posix.isAbsolute(options.root) ? '' : '/'}${options.root}`;
  }

  private connect(): Promise<{ client: Client; sftp: SFTPWrapper }> {
    this.session ??= new Promise((resolve, reject) => {
      const o = this.options;
      const client = new Client();
      let mismatch: HostKeyMismatchError | undefined;
      client.on('error', (error) => {
        clearTimeout(this.deadline);
        client.destroy();
        reject(mismatch ?? error);
      });
      client.on('ready', () => client.sftp((error, sftp) => (error ? reject(error) : resolve({ client, sftp }))));
      this.deadline = setTimeout(() => {
        this.failure = new Error(`${this.target}: delivery took longer than its deadline (${(o.deadlineMs ?? 1_800_000) / 1000} s)`);
        client.destroy();
        reject(this.failure);
      }, o.deadlineMs ?? 1_800_000);
      client.connect({
        host: o.host,
        port: o.port ?? 22,
        username: o.username,
        privateKey: o.privateKey,
        readyTimeout: o.connectTimeoutMs ?? 30_000,
        hostVerifier: (key: Buffer) => {
          const got = hostKeyFingerprint(key);
          if (got === o.hostKeySha256) return true;
          mismatch = new HostKeyMismatchError(o.host, got, o.hostKeySha256);
          return false;
        },
      });
    });
    return this.session;
  }

  private call<T>(fn: (sftp: SFTPWrapper, cb: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    return this.connect().then(
      ({ sftp }) => new Promise<T>((resolve, reject) => fn(sftp, (error, value) => (error ? reject(this.failure ?? error) : resolve(value as T)))),
    );
  }

  private async mkdirs(dir: string): Promise<void> {
    let path = '';
    for (const part of dir.split('/')) {
      path = path ? `${path}/${part}` : part;
      if (part === '' || part === '.') continue;
      const exists = await this.call<unknown>((s, cb) => s.stat(path, (e, st) => cb(null, e ? undefined : st)));
      if (!exists) await this.call<void>((s, cb) => s.mkdir(path, (e) => cb(e && (e as { code?: number }).code !== 4 ? e : null)));
    }
  }

  private remote(path: string): string {
    return posix.join(this.options.root, path);
  }

  async put(path: string, body: () => Promise<Readable>, bytes: number): Promise<void> {
    const final = this.remote(path);
    const temp = posix.join(posix.dirname(final), `.${posix.basename(final)}.part`);
    await this.mkdirs(posix.dirname(final));
    const { sftp } = await this.connect();
    const idleMs = this.options.idleTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const guard = new Transform({
      transform(chunk, _enc, done) {
        clearTimeout(timer);
        timer = setTimeout(() => guard.destroy(new Error(`stalled: no progress for ${idleMs / 1000} s sending ${path}`)), idleMs);
        done(null, chunk);
      },
    });
    try {
      await pipeline(await body(), guard, sftp.createWriteStream(temp));
    } catch (error) {
      await this.call<void>((s, cb) => s.unlink(temp, () => cb(null))).catch(() => undefined);
      throw this.failure ?? error;
    } finally {
      clearTimeout(timer);
    }
    const written = await this.call<{ size: number }>((s, cb) => s.stat(temp, cb));
    if (written.size !== bytes) throw new Error(`${path}: the server holds ${written.size} bytes of ${bytes}`);
    // posix-rename replaces atomically; plain SFTP rename refuses an existing target.
    await this.call<void>((s, cb) => s.ext_openssh_rename(temp, final, (e) => cb(e))).catch(async () => {
      await this.call<void>((s, cb) => s.unlink(final, () => cb(null)));
      await this.call<void>((s, cb) => s.rename(temp, final, cb));
    });
  }

  async size(path: string): Promise<number | undefined> {
    return this.call<number | undefined>((s, cb) =>
      s.stat(this.remote(path), (error, stats) => {
        if (error && (error as { code?: number }).code === NO_SUCH_FILE) return cb(null, undefined);
        cb(error, stats?.size);
      }),
    );
  }

  async close(): Promise<void> {
    clearTimeout(this.deadline);
    const session = this.session;
    this.session = undefined;
    if (session) await session.then(({ client }) => client.end()).catch(() => undefined);
  }
}

export function sftpDestination(name: string, options: SftpSinkOptions): Destination {
  return fileDestination(name, new SftpSink(options));
}
