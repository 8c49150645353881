/** What the adapters need to know about an S3 error: its code and HTTP status. */
export interface S3ErrorInfo {
  readonly code: string;
  readonly status: number | undefined;
}

/** Reads code and status off an SDK error (or anything shaped like one) without trusting its class. */
export function s3ErrorInfo(e: unknown): S3ErrorInfo {
  if (typeof e !== 'object' || e === null) return { code: String(e), status: undefined };
  const err = e as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const code = typeof err.Code === 'string' ? err.Code : typeof err.name === 'string' ? err.name : 'Error';
  const status = typeof err.$metadata?.httpStatusCode === 'number' ? err.$metadata.httpStatusCode : undefined;
  return { code, status };
}

/**
 * No object at the key (GetObject says NoSuchKey, HeadObject a bare 404). A missing bucket is not
 * a missing object: it is a setup error and must surface.
 */
export function isNotFound(e: unknown): boolean {
  const { code, status } = s3ErrorInfo(e);
  if (code === 'NoSuchBucket') return false;
  return code === 'NoSuchKey' || code === 'NotFound' || status === 404;
}

/** A conditional write whose condition did not hold. */
export function isPreconditionFailed(e: unknown): boolean {
  const { code, status } = s3ErrorInfo(e);
  return code === 'PreconditionFailed' || status === 412;
}

/** S3 saw a concurrent conditional write to the same key and asks the caller to retry. */
export function isConditionalConflict(e: unknown): boolean {
  const { code, status } = s3ErrorInfo(e);
  return code === 'ConditionalRequestConflict' || (status === 409 && code !== 'BucketAlreadyExists' && code !== 'BucketAlreadyOwnedByYou');
}
