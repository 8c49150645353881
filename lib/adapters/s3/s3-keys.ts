/**
 * Key rules shared by the S3 adapters. They match the local store's, so a key that works locally
 * works on S3 and the other way round: no empty or `.`/`..` segments, no backslashes, no NUL.
 */

/** S3's limit on an object key, in UTF-8 bytes, store prefix included. */
const MAX_KEY_BYTES = 1024;

function invalid(what: string, value: string, why: string): Error {
  return new Error(`invalid object ${what} ${JSON.stringify(value)}: ${why}`);
}

/** Common checks for keys and prefixes; `what` names which one in the message. */
function checkText(value: string, what: 'key' | 'prefix'): void {
  if (typeof value !== 'string') throw invalid(what, String(value), 'must be a string');
  if (value.includes('\0')) throw invalid(what, value, 'must not contain NUL');
  if (value.includes('\\')) throw invalid(what, value, 'must not contain backslashes; keys use "/"');
  if (value.startsWith('/')) throw invalid(what, value, 'must be relative to the store root');
  if (value.includes('//')) throw invalid(what, value, 'must not contain "//"');
}

/** Throws, naming the key, unless it is a well-formed object key. */
export function assertValidKey(key: string): void {
  checkText(key, 'key');
  if (key === '') throw invalid('key', key, 'must not be empty');
  for (const s of key.split('/')) {
    if (s === '') throw invalid('key', key, 'must not end with "/"');
    if (s === '.' || s === '..') throw invalid('key', key, 'must not contain "." or ".." segments');
  }
}

/** A prefix may end mid-name or with "/", but its folder part must be a well-formed key. */
export function assertValidPrefix(prefix: string): void {
  checkText(prefix, 'prefix');
  const cut = prefix.lastIndexOf('/');
  const folders = cut < 0 ? [] : prefix.slice(0, cut).split('/');
  const last = cut < 0 ? prefix : prefix.slice(cut + 1);
  for (const s of folders) {
    if (s === '.' || s === '..') throw invalid('prefix', prefix, 'must not contain "." or ".." segments');
  }
  if (last === '..' || last === '.') throw invalid('prefix', prefix, 'must not contain "." or ".." segments');
}

export function assertKeyLength(fullKey: string, key: string): void {
  if (Buffer.byteLength(fullKey, 'utf8') > MAX_KEY_BYTES) {
    throw invalid('key', key, `is longer than S3's ${MAX_KEY_BYTES} bytes once the store prefix is added`);
  }
}

/** Normalises a store prefix: no leading "/", one trailing "/" unless empty. */
export function normalizeStorePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  assertValidKey(trimmed);
  return `${trimmed}/`;
}

/**
 * `CopySource` wants `bucket/key` with each key segment URL-encoded. "=" (in every `slot=` and
 * `run=` segment) stays literal: no decoder changes it, and emulators that decode the header with
 * `decodeURI` (s3rver) would not turn `%3D` back into "=".
 */
export function copySource(bucket: string, fullKey: string): string {
  const encoded = fullKey.split('/').map((s) => encodeURIComponent(s).replace(/%3D/g, '='));
  return `${bucket}/${encoded.join('/')}`;
}
