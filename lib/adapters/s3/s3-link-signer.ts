import * as path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Clock } from '../../core/ports/clock';
import { systemClock } from '../../core/ports/clock';
import type { DownloadLink, LinkSigner } from '../../core/ports/link-signer';
import { assertKeyLength, assertValidKey, normalizeStorePrefix } from './s3-keys';
import { parseS3Url, s3ClientDefaults } from './s3-store';
import { SigningCredentialsExpiredError } from '../../core/errors';
export { SigningCredentialsExpiredError };

/** SigV4 presigned URLs live at most 7 days. */
export const MAX_LINK_SECONDS = 7 * 24 * 3600;

export interface S3LinkSignerOptions {
  readonly bucket: string;
  /** Store root inside the bucket, as given to the S3Store. */
  readonly prefix?: string;
  /**
   * A client to sign with. Built from `clientConfig` and the environment when absent, with
   * `requestChecksumCalculation` and `responseChecksumValidation` set to `'WHEN_REQUIRED'` so no
   * checksum parameters end up in the URL; an injected client should be configured the same way.
   */
  readonly client?: S3Client;
  readonly clientConfig?: S3ClientConfig;
  /** Signing time; the link's expiry counts from it. */
  readonly clock?: Clock;
}

/** `attachment` with the key's file name, ASCII fallback plus RFC 5987 form for other characters. */
export function contentDisposition(key: string): string {
  const name = path.posix.basename(key);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Presigned GET links to objects of an S3 store. A link lives as long as the caller asks, but never
 * more than 7 days, and never beyond the expiry of the credentials that sign it (a Lambda role's
 * last hours): S3 refuses a URL once its signing session has expired, so the `expiresAt` returned
 * is the moment the link really stops working.
 */
export class S3LinkSigner implements LinkSigner {
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  private readonly clock: Clock;

  constructor(options: S3LinkSignerOptions) {
    this.bucket = options.bucket;
    this.prefix = normalizeStorePrefix(options.prefix);
    this.client =
      options.client ??
      new S3Client({
        ...s3ClientDefaults(),
        ...options.clientConfig,
        // Otherwise the SDK adds checksum parameters (x-amz-checksum-mode on a GET) to the signed URL.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
    this.clock = options.clock ?? systemClock;
  }

  /** A signer for the store at `s3://bucket/prefix`, as `S3Store.fromUrl` reads it. */
  static fromUrl(url: string, options: Omit<S3LinkSignerOptions, 'bucket' | 'prefix'> = {}): S3LinkSigner {
    const { bucket, prefix } = parseS3Url(url);
    return new S3LinkSigner({ ...options, bucket, prefix });
  }

  async sign(key: string, expiresInSeconds: number): Promise<DownloadLink> {
    assertValidKey(key);
    const fullKey = this.prefix + key;
    assertKeyLength(fullKey, key);
    const now = this.clock.now();
    const expiresIn = await this.lifetimeSeconds(expiresInSeconds, now);
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: fullKey, ResponseContentDisposition: contentDisposition(key) });
    const url = await getSignedUrl(this.client, command, { expiresIn, signingDate: now });
    return { url, expiresAt: new Date(now.getTime() + expiresIn * 1000).toISOString() };
  }

  /** The asked lifetime, capped at 7 days and at the signing credentials' expiry. */
  private async lifetimeSeconds(asked: number, now: Date): Promise<number> {
    if (!Number.isFinite(asked) || asked < 1) throw new Error(`link lifetime must be at least 1 second, got ${asked}`);
    let seconds = Math.min(Math.floor(asked), MAX_LINK_SECONDS);
    const credentials = await this.client.config.credentials();
    const expiration = credentials.expiration;
    if (expiration) {
      const left = Math.floor((expiration.getTime() - now.getTime()) / 1000);
      if (left < 1) throw new SigningCredentialsExpiredError(expiration, now);
      seconds = Math.min(seconds, left);
    }
    return seconds;
  }
}
