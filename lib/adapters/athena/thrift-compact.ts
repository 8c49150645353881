/** Thrift compact protocol type ids (Thrift's compact protocol spec): Parquet's footer is written in it. */
export const THRIFT = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;
