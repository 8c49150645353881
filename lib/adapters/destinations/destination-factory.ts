import { isAbsolute, resolve } from 'node:path';
import { parseDurationSeconds } from '../../core/duration';
import { secretFromEnv, type DestinationBuilder } from '../../core/destinations/plans';
import type { DestinationSpec } from '../../core/feed/feed-schema';
import type { Destination } from '../../core/ports/destination';
import { HttpApiDestination } from '../http/http-api-destination';
import { localFolderDestination } from '../local/local-destination';
import { partnerS3DestinationOf } from '../s3/s3-destination';
import { sftpDestination } from '../sftp/sftp-destination';

export interface DestinationFactoryOptions {
  /** The feed file, for error messages. */
  readonly feedFile: string;
  /** Folder local destinations' relative paths are read from (the project folder). */
  readonly projectDir: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const ms = (d: string) => parseDurationSeconds(d)! * 1000;

/** The default builder: every destination type of the feed schema to its adapter. */
export function destinationFactory(options: DestinationFactoryOptions): DestinationBuilder {
  const env = options.env ?? process.env;
  return (spec: DestinationSpec): Destination => {
    const where = (field: string) => ({ file: options.feedFile, path: `destinations.${spec.name}.${field}` });
    switch (spec.type) {
      case 'local':
        return localFolderDestination(spec.name, isAbsolute(spec.path) ? spec.path : resolve(options.projectDir, spec.path));
      case 's3':
        return partnerS3DestinationOf(spec);
      case 'sftp':
        return sftpDestination(spec.name, {
          host: spec.host,
          port: spec.port,
          username: spec.username,
          privateKey: secretFromEnv(env, spec.privateKeyEnv, where('privateKeyEnv')),
          hostKeySha256: spec.hostKeySha256,
          root: spec.path,
          connectTimeoutMs: ms(spec.connectTimeout),
          idleTimeoutMs: ms(spec.idleTimeout),
          deadlineMs: ms(spec.deadline),
        });
      case 'api':
        return new HttpApiDestination({
          name: spec.name,
          url: spec.url,
          token: secretFromEnv(env, spec.tokenEnv, where('tokenEnv')),
          mapping: spec.mapping,
          primaryKey: spec.primaryKey,
          batchSize: spec.batchSize,
          requestsPerSecond: spec.requestsPerSecond,
          maxAttempts: spec.maxAttempts,
          timeoutMs: ms(spec.timeout),
        });
    }
  };
}
