import * as z from 'zod';
import { CheckDefinition, commonCheckFields } from './check-types';

/**
 * Type names as engines spell them differ in case, spacing and synonyms (DuckDB `VARCHAR`, Athena
 * `varchar`, a contract written as `string`), so both sides are normalised before comparing.
 */
const ALIASES: Readonly<Record<string, string>> = {
  INT: 'INTEGER',
  INT4: 'INTEGER',
  INT8: 'BIGINT',
  STRING: 'VARCHAR',
  TEXT: 'VARCHAR',
  FLOAT8: 'DOUBLE',
  BOOL: 'BOOLEAN',
  FLOAT4: 'REAL',
  FLOAT: 'REAL',
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
};

export function normaliseType(type: string): string {
  const text = type
    .trim()
    .toUpperCase()
    .replace(/\s+/g, ' ')
    .replace(/\s*([(),])\s*/g, '$1');
  return ALIASES[text] ?? text;
}

/** The family of a column type, which decides how a check compares its values. */
export type TypeFamily = 'numeric' | 'temporal' | 'string' | 'boolean' | 'other';

export function typeFamily(type: string): TypeFamily {
  const base = normaliseType(type).replace(/\(.*$/, '');
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$|^(INT[1248]?|DECIMAL|NUMERIC|DOUBLE|DOUBLE PRECISION|FLOAT[48]?|REAL)$/.test(base)) return 'numeric';
  // TIME alone has no date, so it cannot be compared with an instant.
  if (base === 'DATE' || base === 'DATETIME' || base.startsWith('TIMESTAMP')) return 'temporal';
  if (/^(VARCHAR|CHAR|CHARACTER|CHARACTER VARYING|BPCHAR)$/.test(base)) return 'string';
  if (base === 'BOOLEAN') return 'boolean';
  return 'other';
}

const column = z.strictObject({
  name: z.string().min(1),
  type: z.string().min(1).meta({
    description:
      'Type as the engine names it, e.g. BIGINT, VARCHAR, DECIMAL(18,2), TIMESTAMP WITH TIME ZONE; case and common synonyms (int, string, bool, timestamptz…) are ignored',
  }),
});

const schema = z
  .strictObject({
    type: z.literal('schema'),
    ...commonCheckFields,
    columns: z.array(column).min(1).meta({ description: 'The expected columns of the result' }),
    allowExtra: z.boolean().default(false).meta({ description: 'Columns not listed are accepted' }),
    ordered: z.boolean().default(false).meta({ description: 'The listed columns must appear in this order' }),
  })
  .refine((c) => new Set(c.columns.map((col) => col.name)).size === c.columns.length, { error: 'a column is listed twice' })
  .meta({ description: 'The result has exactly these columns and types (a schema contract); judged without a query' });

interface Changed {
  name: string;
  expected: string;
  actual: string;
}

export const schemaCheck: CheckDefinition<typeof schema> = {
  type: 'schema',
  schema,
  compile(check, target) {
    const { dialect } = target;
    // Names as the engine reports them (Glue lower-cases), types as its staged table can hold them.
    const key = (name: string) => (dialect.foldsNames ? name.toLowerCase() : name);
    const comparable = (type: string) => dialect.stagedType(normaliseType(type));
    const actual = new Map(target.columns.map((c) => [key(c.name), c.type]));
    const expectedNames = new Set(check.columns.map((c) => key(c.name)));
    const missing = check.columns.filter((c) => !actual.has(key(c.name))).map((c) => c.name);
    const extra = target.columns.filter((c) => !expectedNames.has(key(c.name))).map((c) => c.name);
    const changed: Changed[] = check.columns
      .filter((c) => actual.has(key(c.name)) && comparable(c.type) !== comparable(actual.get(key(c.name))!))
      .map((c) => ({ name: c.name, expected: c.type, actual: actual.get(key(c.name))! }));
    // Order is compared on the columns both sides have, so a missing or extra column is not also an order error.
    const expectedOrder = check.columns.map((c) => key(c.name)).filter((n) => actual.has(n));
    const actualOrder = target.columns.map((c) => key(c.name)).filter((n) => expectedNames.has(n));
    const orderDiffers = expectedOrder.join('\u0000') !== actualOrder.join('\u0000');

    const observed = { missing, extra, changed, ...(check.ordered ? { orderDiffers } : {}) };
    const passed = !missing.length && !changed.length && (check.allowExtra || !extra.length) && !(check.ordered && orderDiffers);
    const problems = [
      missing.length ? `missing ${missing.map((n) => `"${n}"`).join(', ')}` : '',
      extra.length && !check.allowExtra ? `unexpected ${extra.map((n) => `"${n}"`).join(', ')}` : '',
      ...changed.map((c) => `"${c.name}" is ${c.actual}, expected ${c.expected}`),
      check.ordered && orderDiffers ? `order is ${actualOrder.join(', ')}, expected ${expectedOrder.join(', ')}` : '',
    ].filter(Boolean);
    return [
      {
        kind: 'static',
        type: 'schema',
        name: check.name ?? 'schema',
        severity: check.severity,
        judge: () => ({
          passed,
          observed,
          threshold: { columns: check.columns, allowExtra: check.allowExtra, ordered: check.ordered },
          message: passed ? `${target.columns.length} columns match the contract` : `schema differs from the contract: ${problems.join('; ')}`,
        }),
      },
    ];
  },
};
