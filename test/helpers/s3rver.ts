import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';

/** s3rver's built-in account. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface RunningS3rver {
  /** e.g. `http://127.0.0.1:41123` */
  readonly endpoint: string;
  readonly buckets: readonly string[];
  /** Client settings for this server: path-style, its credentials. */
  clientConfig(extra?: S3ClientConfig): S3ClientConfig;
  client(extra?: S3ClientConfig): S3Client;
  stop(): Promise<void>;
}

/**
 * Starts s3rver on a free loopback port in a child process, with the given buckets. The child runs
 * with `--openssl-legacy-provider`: s3rver's ListObjectsV2 continuation tokens use DES, which
 * Node 20's OpenSSL 3 only offers through the legacy provider.
 */
export async function startS3rver(buckets: readonly string[]): Promise<RunningS3rver> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dropkit-s3rver-'));
  const bin = require.resolve('s3rver/bin/s3rver.js');
  const args = ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '-s', ...buckets.flatMap((b) => ['--configure-bucket', b])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Should the test process die before afterAll, the server goes with it rather than lingering.
  const killChild = () => void child.kill('SIGKILL');
  process.once('exit', killChild);
  let port: number;
  try {
    port = await waitForPort(child);
  } catch (e) {
    process.removeListener('exit', killChild);
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const clientConfig = (extra: S3ClientConfig = {}): S3ClientConfig => ({
    endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3RVER_CREDENTIALS, ...extra,
  });
  return {
    endpoint,
    buckets,
    clientConfig,
    client: (extra) => new S3Client(clientConfig(extra)),
    async stop() {
      process.removeListener('exit', killChild);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function waitForPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 15 s:\n${out}${err}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (out.includes('listening on')) return;
      out += d.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code} before listening:\n${out}${err}`));
    });
  });
}
