import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Jest setup for every test file.

// Powertools (Lambda handlers): quiet logs, metrics printed through the global console so tests can read them.
process.env.POWERTOOLS_DEV ??= 'true';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

// aws-local-stepfunctions 3 uses Promise.withResolvers, which Node 20 lacks (Node 22 has it).
const P = Promise as unknown as { withResolvers?: () => unknown };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

// The AWS SDK warns once per process that it will need Node 22 from January 2027 (@aws-sdk/core
// emitWarningIfUnsupportedVersion): noise in every run on Node 20. Tests only; the product still warns.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `dropkit check` keeps a cache in the user's cache folder: tests keep theirs apart (its keys are
// content hashes, so test files may share it).
process.env.XDG_CACHE_HOME = join(tmpdir(), 'dropkit-test-cache');
