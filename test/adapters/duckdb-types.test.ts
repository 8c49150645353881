import { DuckDBInstance } from '@duckdb/node-api';
import { parseDuckDbType, type DuckDbType } from '../../lib/adapters/duckdb/duckdb-types';

/** The type names DuckDB itself prints, for nested types with awkward names inside. */
const SELECT = `SELECT
  {'a b': 1, 'c"d': [1::HUGEINT], 'e,f': 'x'::ENUM('p,q', 'r)s', 'x', 'it''s')} AS s,
  [1, 2]::INTEGER[2] AS arr,
  [[1.5::DECIMAL(4,1)]] AS ll,
  MAP {'k': {'t': TIMESTAMPTZ '2024-01-01 00:00:00+00', 'i': INTERVAL 1 DAY}} AS m,
  union_value(k := 1)::UNION(k INTEGER, s VARCHAR) AS u,
  {'select': MAP {1: [TIME '01:00:00']}} AS kw`;

function shape(type: DuckDbType): unknown {
  switch (type.kind) {
    case 'scalar':
      return type.text;
    case 'list':
      return [shape(type.of)];
    case 'struct':
      return Object.fromEntries(type.fields.map((f) => [f.name, shape(f.type)]));
    case 'map':
      return { map: [shape(type.key), shape(type.value)] };
  }
}

describe('parseDuckDbType', () => {
  it('parses what DuckDB prints for nested types, quoted names, enums and unions included', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    let types: string[];
    try {
      types = (await c.runAndReadAll(`DESCRIBE ${SELECT}`)).getRowsJson().map((r) => String((r as unknown[])[1]));
    } finally {
      c.closeSync();
      db.closeSync();
    }
    const parsed = types.map(parseDuckDbType);
    expect(parsed.map((t) => t.text)).toEqual(types);
    expect(parsed.map(shape)).toEqual([
      { 'a b': 'INTEGER', 'c"d': ['HUGEINT'], 'e,f': "ENUM('p,q', 'r)s', 'x', 'it''s')" },
      ['INTEGER'],
      [['DECIMAL(4,1)']],
      { map: ['VARCHAR', { t: 'TIMESTAMP WITH TIME ZONE', i: 'INTERVAL' }] },
      'UNION(k INTEGER, s VARCHAR)',
      { select: { map: ['INTEGER', ['TIME']] } },
    ]);
  });

  it('refuses text that is not a type, saying where', () => {
    expect(() => parseDuckDbType('STRUCT(a INTEGER')).toThrow(/cannot parse the DuckDB type "STRUCT\(a INTEGER" at \d+: expected \)/);
    expect(() => parseDuckDbType('INTEGER[')).toThrow(/unclosed \[/);
  });
});
