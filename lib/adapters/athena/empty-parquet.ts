/**
 * A Parquet file with columns and no rows: `PAR1`, the Thrift compact-encoded FileMetaData
 * (version, the schema, num_rows = 0, no row groups), its length and `PAR1`. The Athena diff
 * writes one where a CTAS of zero rows left no file (or only an empty object), so an empty change
 * set is a file every Parquet reader opens, as DuckDB's COPY of no rows is.
 */

import { THRIFT } from './thrift-compact';

export interface ParquetColumn {
  readonly name: string;
  /** The manifest's type spelling (DuckDB or Athena), as hiveType takes it. */
  readonly type: string;
}

// Parquet enums (parquet-format's parquet.thrift).
const PHYSICAL = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;
const CONVERTED = { UTF8: 0, DECIMAL: 5, DATE: 6, TIMESTAMP_MICROS: 10, INT_8: 15, INT_16: 16 } as const;
const OPTIONAL = 1;

interface Element {
  readonly type?: number;
  readonly typeLength?: number;
  readonly repetition?: number;
  readonly name: string;
  readonly numChildren?: number;
  readonly converted?: number;
  readonly scale?: number;
  readonly precision?: number;
  /** Timestamps: the logical type too, saying whether the instant is UTC-adjusted (a converted type alone says it is). */
  readonly utc?: boolean;
}

/** How a column is stored: the physical type and the annotation readers turn back into the column's type. */
function elementOf(c: ParquetColumn): Element {
  const t = c.type.trim().toUpperCase();
  const leaf = (type: number, more: Partial<Element> = {}): Element => ({ type, repetition: OPTIONAL, name: c.name, ...more });
  const decimal = /^DECIMAL\s*\((\d+)\s*,\s*(\d+)\)$/.exec(t);
  if (decimal) {
    const [precision, scale] = [Number(decimal[1]), Number(decimal[2])];
    if (precision <= 9) return leaf(PHYSICAL.INT32, { converted: CONVERTED.DECIMAL, scale, precision });
    if (precision <= 18) return leaf(PHYSICAL.INT64, { converted: CONVERTED.DECIMAL, scale, precision });
    // The fewest bytes whose two's complement holds 10^precision - 1.
    const typeLength = Math.ceil((Math.log2(10 ** precision) + 1) / 8);
    return leaf(PHYSICAL.FIXED_LEN_BYTE_ARRAY, { typeLength, converted: CONVERTED.DECIMAL, scale, precision });
  }
  if (/^VARCHAR(\s*\(\d+\))?$/.test(t) || t === 'STRING') return leaf(PHYSICAL.BYTE_ARRAY, { converted: CONVERTED.UTF8 });
  const simple: Record<string, Element> = {
    BIGINT: leaf(PHYSICAL.INT64),
    INTEGER: leaf(PHYSICAL.INT32),
    INT: leaf(PHYSICAL.INT32),
    SMALLINT: leaf(PHYSICAL.INT32, { converted: CONVERTED.INT_16 }),
    TINYINT: leaf(PHYSICAL.INT32, { converted: CONVERTED.INT_8 }),
    DOUBLE: leaf(PHYSICAL.DOUBLE),
    REAL: leaf(PHYSICAL.FLOAT),
    FLOAT: leaf(PHYSICAL.FLOAT),
    BOOLEAN: leaf(PHYSICAL.BOOLEAN),
    DATE: leaf(PHYSICAL.INT32, { converted: CONVERTED.DATE }),
    // As DuckDB writes them: a plain timestamp is not UTC-adjusted, one with a time zone is.
    TIMESTAMP: leaf(PHYSICAL.INT64, { converted: CONVERTED.TIMESTAMP_MICROS, utc: false }),
    'TIMESTAMP WITH TIME ZONE': leaf(PHYSICAL.INT64, { converted: CONVERTED.TIMESTAMP_MICROS, utc: true }),
    VARBINARY: leaf(PHYSICAL.BYTE_ARRAY),
    BLOB: leaf(PHYSICAL.BYTE_ARRAY),
  };
  const element = simple[t];
  if (!element)
    throw new Error(
      `column ${c.name}: type ${c.type} has no Parquet spelling here; an empty change set on AWS takes scalar columns (numbers, text, dates, timestamps)`,
    );
  return element;
}

/** Thrift's compact protocol, only what FileMetaData needs. */
class CompactWriter {
  private readonly bytes: number[] = [];
  private last: number[] = [0];

  private varint(n: bigint): void {
    let v = n;
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      this.bytes.push(b);
    } while (v > 0n);
  }

  private header(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1];
    if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
    else {
      this.bytes.push(type);
      this.varint(BigInt((id << 1) ^ (id >> 31)));
    }
    this.last[this.last.length - 1] = id;
  }

  int(id: number, type: typeof THRIFT.I32 | typeof THRIFT.I64, value: number): this {
    this.header(id, type);
    const v = BigInt(value);
    this.varint(v >= 0n ? v << 1n : (-v << 1n) - 1n); // zigzag
    return this;
  }

  string(id: number, value: string): this {
    this.header(id, THRIFT.BINARY);
    const b = Buffer.from(value, 'utf8');
    this.varint(BigInt(b.length));
    this.bytes.push(...b);
    return this;
  }

  bool(id: number, value: boolean): this {
    this.header(id, value ? THRIFT.TRUE : THRIFT.FALSE);
    return this;
  }

  /** A struct field, its fields written by `body`. */
  struct(id: number, body: (w: this) => void): this {
    this.header(id, THRIFT.STRUCT);
    this.last.push(0);
    body(this);
    return this.stop();
  }

  /** A list of structs, each written by `each` between its begin and stop. */
  structs<X>(id: number, items: readonly X[], each: (w: this, item: X) => void): this {
    this.header(id, THRIFT.LIST);
    if (items.length < 15) this.bytes.push((items.length << 4) | THRIFT.STRUCT);
    else {
      this.bytes.push(0xf0 | THRIFT.STRUCT);
      this.varint(BigInt(items.length));
    }
    for (const item of items) {
      this.last.push(0);
      each(this, item);
      this.stop();
    }
    return this;
  }

  stop(): this {
    this.bytes.push(0);
    if (this.last.length > 1) this.last.pop();
    return this;
  }

  buffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/** The bytes of a Parquet file with these columns (all nullable) and no rows. */
export function emptyParquet(columns: readonly ParquetColumn[]): Buffer {
  if (columns.length === 0) throw new Error('an empty Parquet file needs at least one column');
  const schema: Element[] = [{ name: 'schema', numChildren: columns.length }, ...columns.map(elementOf)];
  const meta = new CompactWriter()
    .int(1, THRIFT.I32, 1)
    .structs(2, schema, (w, e) => {
      if (e.type !== undefined) w.int(1, THRIFT.I32, e.type);
      if (e.typeLength !== undefined) w.int(2, THRIFT.I32, e.typeLength);
      if (e.repetition !== undefined) w.int(3, THRIFT.I32, e.repetition);
      w.string(4, e.name);
      if (e.numChildren !== undefined) w.int(5, THRIFT.I32, e.numChildren);
      if (e.converted !== undefined) w.int(6, THRIFT.I32, e.converted);
      if (e.scale !== undefined) w.int(7, THRIFT.I32, e.scale);
      if (e.precision !== undefined) w.int(8, THRIFT.I32, e.precision);
      // LogicalType (a union): 8 TIMESTAMP { 1 isAdjustedToUTC, 2 unit: { 2 MICROS {} } }.
      if (e.utc !== undefined) w.struct(10, (l) => l.struct(8, (ts) => ts.bool(1, e.utc!).struct(2, (unit) => unit.struct(2, () => undefined))));
    })
    .int(3, THRIFT.I64, 0)
    .structs(4, [], () => undefined)
    .string(6, 'dropkit (an empty change set)')
    .stop()
    .buffer();
  const length = Buffer.alloc(4);
  length.writeUInt32LE(meta.length);
  return Buffer.concat([Buffer.from('PAR1'), meta, length, Buffer.from('PAR1')]);
}
