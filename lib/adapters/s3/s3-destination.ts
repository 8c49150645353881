import type { Readable } from 'node:stream';
import { HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { Upload } from '@aws-sdk/lib-storage';
import { fileDestination } from '../../core/destinations/file-delivery';
import type { Destination, FileSink } from '../../core/ports/destination';
import type { DestinationSpec } from '../../core/feed/feed-schema';
import { isNotFound } from './s3-errors';
import { AWS_RETRY } from '../aws-retry';

export interface PartnerS3SinkOptions {
  readonly bucket: string;
  /** Key prefix in their bucket ('' for the root). */
  readonly prefix?: string;
  /** A role in the partner's account to assume; without it our own credentials write (their bucket policy grants us). */
  readonly roleArn?: string;
  /** The external id their role's trust policy requires (the confused-deputy guard). */
  readonly externalId?: string;
  /** Their KMS key: objects are encrypted with it (SSE-KMS). */
  readonly kmsKeyId?: string;
  /** Names the session in their CloudTrail. Default `dropkit-delivery`. */
  readonly sessionName?: string;
  readonly clientConfig?: S3ClientConfig;
  /** Config of the STS client that assumes the role (region, endpoint in tests). */
  readonly stsClientConfig?: { readonly region?: string; readonly endpoint?: string };
  readonly client?: S3Client;
}

/**
 * A partner's bucket. Every object is written with `bucket-owner-full-control` (their account
 * owns what we write, whatever account writes it) and, when they give one, their KMS key. A PUT
 * is atomic, so a reader never sees half an object; the manifest goes last (deliverFiles).
 */
export class PartnerS3Sink implements FileSink {
  readonly target: string;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: PartnerS3SinkOptions) {
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.target = `s3://${options.bucket}/${this.prefix ? `${this.prefix}/` : ''}${options.roleArn ? ` as ${options.roleArn}` : ''}`;
    const credentials = options.roleArn
      ? fromTemporaryCredentials({
          params: {
            RoleArn: options.roleArn,
            RoleSessionName: options.sessionName ?? 'dropkit-delivery',
            ...(options.externalId ? { ExternalId: options.externalId } : {}),
          },
          clientConfig: options.stsClientConfig ?? (options.clientConfig?.region ? { region: options.clientConfig.region as string } : undefined),
          ...(options.clientConfig?.credentials ? { masterCredentials: options.clientConfig.credentials as never } : {}),
        })
      : undefined;
    this.client = options.client ?? new S3Client({ ...AWS_RETRY, ...options.clientConfig, ...(credentials ? { credentials } : {}) });
  }

  private key(path: string): string {
    return this.prefix ? `${this.prefix}/${path}` : path;
  }

  async put(path: string, body: () => Promise<Readable>, bytes: number): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.options.bucket,
        Key: this.key(path),
        Body: await body(),
        ContentLength: bytes,
        ACL: 'bucket-owner-full-control',
        ...(this.options.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.options.kmsKeyId } : {}),
      },
    });
    await upload.done();
  }

  async size(path: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(path) }));
      return head.ContentLength;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async close(): Promise<void> {
    if (!this.options.client) this.client.destroy();
  }
}

export function partnerS3Destination(name: string, options: PartnerS3SinkOptions): Destination {
  return fileDestination(name, new PartnerS3Sink(options));
}

/** The partner S3 destination a feed file declares (local runs and the deployed push alike); `clientConfig` under the spec's region. */
export function partnerS3DestinationOf(spec: Extract<DestinationSpec, { type: 's3' }>, clientConfig: S3ClientConfig = {}): Destination {
  const { bucket, prefix, roleArn, externalId, kmsKeyId } = spec;
  return partnerS3Destination(spec.name, {
    bucket,
    prefix,
    roleArn,
    externalId,
    kmsKeyId,
    clientConfig: { ...clientConfig, ...(spec.region ? { region: spec.region } : {}) },
  });
}
