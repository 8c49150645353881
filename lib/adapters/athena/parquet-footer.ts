import { THRIFT } from './thrift-compact';
/**
 * The row count of a Parquet file from its footer alone: the file ends with the Thrift
 * compact-encoded FileMetaData, its length (4 bytes, little-endian) and `PAR1`. FileMetaData's
 * field 3 is `num_rows` (i64); the fields before it (version, schema) are skipped without being
 * understood. No row data is read.
 */

const MAGIC = 'PAR1';

/** Length of the FileMetaData from the last 8 bytes of the file. */
export function footerLength(tail8: Buffer): number {
  if (tail8.length !== 8 || tail8.toString('latin1', 4) !== MAGIC) throw new Error('not a Parquet file: no PAR1 at its end');
  return tail8.readUInt32LE(0);
}

/** `num_rows` of a Thrift compact-encoded FileMetaData. */
export function numRowsOfFileMetaData(meta: Buffer): number {
  const reader = new CompactReader(meta);
  let lastId = 0;
  for (;;) {
    const header = reader.byte();
    if (header === 0) break; // STOP
    const type = header & 0x0f;
    const delta = header >> 4;
    const id = delta === 0 ? reader.zigzag32() : lastId + delta;
    lastId = id;
    if (id === 3 && type === THRIFT.I64) {
      const rows = reader.zigzag64();
      if (rows > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`Parquet num_rows ${rows} is beyond a safe integer`);
      return Number(rows);
    }
    reader.skip(type);
  }
  throw new Error('Parquet footer has no num_rows');
}

/** Row count of a Parquet file given its last bytes (at least the footer and the 8 closing bytes). */
export function parquetRowsFromTail(tail: Buffer): number {
  const length = footerLength(tail.subarray(tail.length - 8));
  if (tail.length < length + 8) throw new Error(`Parquet footer is ${length} bytes; only ${tail.length - 8} were read`);
  return numRowsOfFileMetaData(tail.subarray(tail.length - 8 - length, tail.length - 8));
}

class CompactReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  byte(): number {
    if (this.at >= this.buf.length) throw new Error('Parquet footer is truncated');
    return this.buf[this.at++];
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('Parquet footer holds a malformed varint');
    }
  }

  zigzag64(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  zigzag32(): number {
    return Number(this.zigzag64());
  }

  skip(type: number): void {
    switch (type) {
      case THRIFT.TRUE:
      case THRIFT.FALSE:
        return; // the value is in the type (struct fields); in lists a byte follows, handled by skipElement
      case THRIFT.BYTE:
        this.at++;
        return;
      case THRIFT.I16:
      case THRIFT.I32:
      case THRIFT.I64:
        this.varint();
        return;
      case THRIFT.DOUBLE:
        this.at += 8;
        return;
      case THRIFT.BINARY: {
        // Length first: `this.at += this.varint()` would read `at` before varint() moves it.
        const length = Number(this.varint());
        this.at += length;
        return;
      }
      case THRIFT.LIST:
      case THRIFT.SET: {
        const head = this.byte();
        const size = head >> 4 === 15 ? Number(this.varint()) : head >> 4;
        for (let i = 0; i < size; i++) this.skipElement(head & 0x0f);
        return;
      }
      case THRIFT.MAP: {
        const size = Number(this.varint());
        if (size === 0) return;
        const kinds = this.byte();
        for (let i = 0; i < size; i++) {
          this.skipElement(kinds >> 4);
          this.skipElement(kinds & 0x0f);
        }
        return;
      }
      case THRIFT.STRUCT: {
        for (;;) {
          const header = this.byte();
          if (header === 0) return;
          if (header >> 4 === 0) this.zigzag32();
          this.skip(header & 0x0f);
        }
      }
      default:
        throw new Error(`Parquet footer holds an unknown Thrift type ${type}`);
    }
  }

  /** Booleans inside a list or map take a byte; everything else is read as in a struct. */
  private skipElement(type: number): void {
    if (type === THRIFT.TRUE || type === THRIFT.FALSE) this.at++;
    else this.skip(type);
  }
}
