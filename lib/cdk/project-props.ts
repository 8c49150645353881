import { DEFAULT_KEY_PREFIX } from '../core/deploy-contract';
import type { FeedDefinition } from '../core/feed/feed-definition';
import type { ProjectFile } from '../core/feed/feed-schema';
import type { FileExchangeProps } from './file-exchange-props';

/**
 * The FileExchange props a project folder decides: its feeds, key prefix, and what its feeds read
 * on AWS (the `aws:` section of dropkit.yaml: default database, Glue tables, S3 locations, KMS keys).
 *
 * @example
 * const project = loadProject('my-project', { localSources: false });
 * new FileExchange(this, 'Exchange', { ...projectProps(project), partnerConcurrency: 8 });
 */
export function projectProps(project: {
  readonly spec: ProjectFile;
  readonly feeds: readonly FeedDefinition[];
}): Pick<FileExchangeProps, 'feeds' | 'keyPrefix' | 'sources' | 'sourceDatabase'> {
  const aws = project.spec.aws;
  return {
    feeds: project.feeds,
    keyPrefix: project.spec.prefix || DEFAULT_KEY_PREFIX,
    ...(aws?.database ? { sourceDatabase: aws.database } : {}),
    sources: aws ? { glueTables: aws.glueTables, s3Locations: aws.s3Locations, kmsKeyArns: aws.kmsKeyArns } : {},
  };
}
