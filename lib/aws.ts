// The AWS half of dropkit, imported as `dropkit/aws`. Re-exports only; kept apart from lib/index.ts
// so that importing the core never loads an AWS SDK.
export * from './adapters/s3/s3-store';
export * from './adapters/s3/s3-link-signer';
export * from './adapters/s3/s3-errors';
export * from './adapters/sns/sns-notifier';
export * from './adapters/eventbridge/eventbridge-notifier';
