import * as z from 'zod';
import { CheckDefinition, commonCheckFields } from './check-types';
import { isoInstant, readTimestamp } from './dialect';
import { typeFamily } from './schema';
import { missingColumns, toNumber, unknownColumnError } from './sql';
import { describeTolerance, toleranceFields, withinTolerance } from './threshold';

const bound = z.union([
  z.number(),
  z.string().refine((s) => isoInstant(s) !== null, { error: 'a date/time bound is an ISO-8601 date or date-time, e.g. 2024-01-01 or 2024-01-01T06:00:00Z' }),
]);

const schema = z
  .strictObject({
    type: z.literal('range'),
    ...commonCheckFields,
    column: z.string().min(1),
    min: bound
      .optional()
      .meta({ description: 'Lowest allowed value: a number, or an ISO-8601 date/date-time (UTC unless an offset is given) for a date/time column' }),
    max: bound.optional().meta({ description: 'Highest allowed value, like min' }),
    exclusive: z.boolean().default(false).meta({ description: 'The bounds themselves are outside the range' }),
    ...toleranceFields,
  })
  .refine((c) => c.min !== undefined || c.max !== undefined, { error: 'give min, max or both' })
  .refine((c) => c.min === undefined || c.max === undefined || typeof c.min === typeof c.max, { error: 'min and max are both numbers or both dates' })
  .refine((c) => c.min === undefined || c.max === undefined || valueOf(c.min) <= valueOf(c.max), { error: 'min is above max' })
  .meta({ description: 'Every non-NULL value of a numeric or date/time column lies between min and max (NULLs are ignored)' });

function valueOf(b: number | string): number {
  return typeof b === 'number' ? b : Date.parse(isoInstant(b) ?? '');
}

export const rangeCheck: CheckDefinition<typeof schema> = {
  type: 'range',
  schema,
  compile(check, target) {
    const name = check.name ?? `range(${check.column})`;
    const base = { type: 'range', name, severity: check.severity } as const;
    const missing = missingColumns([check.column], target.columns);
    if (missing.length) return [{ ...base, kind: 'invalid', error: unknownColumnError(missing, target.columns) }];
    const type = target.columns.find((c) => c.name === check.column)!.type;
    // The column's type decides whether the bounds are numbers or instants; a mismatch is a config error, not a failure.
    const family = typeFamily(type);
    if (family !== 'numeric' && family !== 'temporal') {
      return [{ ...base, kind: 'invalid', error: `range needs a numeric or date/time column; "${check.column}" is ${type}` }];
    }
    const temporal = family === 'temporal';
    if ([check.min, check.max].some((b) => b !== undefined && typeof b !== (temporal ? 'string' : 'number'))) {
      return [
        { ...base, kind: 'invalid', error: `"${check.column}" is ${type}, so min and max must be ${temporal ? 'ISO-8601 dates or date-times' : 'numbers'}` },
      ];
    }
    const { dialect } = target;
    const col = dialect.quoteIdent(check.column);
    const norm = (b: number | string | undefined) => (b === undefined ? null : typeof b === 'number' ? b : isoInstant(b)!);
    const sqlOf = (b: number | string) => (typeof b === 'number' ? String(b) : dialect.timestamp(b));
    const [lo, hi] = [norm(check.min), norm(check.max)];
    const [below, above] = check.exclusive ? ['<=', '>='] : ['<', '>'];
    const tests = [lo === null ? '' : `${col} ${below} ${sqlOf(lo)}`, hi === null ? '' : `${col} ${above} ${sqlOf(hi)}`].filter(Boolean);
    const read = (v: unknown) => (temporal ? readTimestamp(v) : toNumber(v));
    const threshold = { min: lo, max: hi, exclusive: check.exclusive, ...describeTolerance(check) };
    const interval = `${check.exclusive ? '(' : '['}${lo ?? '-∞'}, ${hi ?? '∞'}${check.exclusive ? ')' : ']'}`;
    return [
      {
        ...base,
        kind: 'aggregate',
        expressions: {
          outside: `count(CASE WHEN ${col} IS NOT NULL AND (${tests.join(' OR ')}) THEN 1 END)`,
          rows: 'count(*)',
          min: `min(${col})`,
          max: `max(${col})`,
        },
        judge(values) {
          const outside = toNumber(values.outside) ?? 0;
          const rows = toNumber(values.rows) ?? 0;
          const [min, max] = [read(values.min), read(values.max)];
          return {
            passed: withinTolerance(outside, rows, check),
            observed: { outside, min, max },
            threshold,
            message: `${outside} of ${rows} rows have "${check.column}" outside ${interval} (NULLs ignored); ${min === null ? 'no non-NULL values' : `values span [${min}, ${max}]`}`,
          };
        },
      },
    ];
  },
};
