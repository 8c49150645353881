/**
 * Keeps a leading U+FEFF in VARCHAR values read through @duckdb/node-api.
 *
 * The client (1.5.6-r.1) decodes every VARCHAR with one shared `new TextDecoder()`, whose default
 * `ignoreBOM: false` strips a U+FEFF at the start of each value: `chr(65279) || 'a'` reads back
 * as `'a'`, and `chr(65279)` alone as `''`. A value must never change on its way to a file, so the
 * shared decoder is swapped, once, for one that keeps it. The client reads that decoder through
 * its module exports on every call, which is what makes the swap take effect; a test
 * (duckdb-csv.test.ts) reads such values back, so a client upgrade that moves the decoder fails
 * loudly instead of dropping characters again.
 */

import { TextDecoder } from 'node:util';

interface DataAccessors {
  textDecoder: TextDecoder;
}

// Deep path on purpose: the decoder is not part of the client's public API.
const accessors = require('@duckdb/node-api/lib/vectors/dataAccessors') as DataAccessors;

if (accessors.textDecoder instanceof TextDecoder && !accessors.textDecoder.ignoreBOM) {
  // Not fatal, like the client's: DuckDB only holds valid UTF-8 in a VARCHAR.
  accessors.textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
}

export {};
