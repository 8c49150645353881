import * as z from 'zod';
import { CheckDefinition, commonCheckFields } from './check-types';
import { typeFamily } from './schema';
import { missingColumns, toNumber, unknownColumnError } from './sql';
import { describeTolerance, toleranceFields, withinTolerance } from './threshold';

const schema = z
  .strictObject({
    type: z.literal('string_length'),
    ...commonCheckFields,
    column: z.string().min(1),
    min: z.number().int().min(0).optional().meta({ description: 'Fewest characters allowed' }),
    max: z.number().int().min(0).optional().meta({ description: 'Most characters allowed' }),
    ...toleranceFields,
  })
  .refine((c) => c.min !== undefined || c.max !== undefined, { error: 'give min, max or both' })
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { error: 'min is above max' })
  .meta({ description: 'Every non-NULL value of the column has between min and max characters (NULLs are ignored)' });

export const stringLengthCheck: CheckDefinition<typeof schema> = {
  type: 'string_length',
  schema,
  compile(check, target) {
    const name = check.name ?? `string_length(${check.column})`;
    const base = { type: 'string_length', name, severity: check.severity } as const;
    const missing = missingColumns([check.column], target.columns);
    if (missing.length) return [{ ...base, kind: 'invalid', error: unknownColumnError(missing, target.columns) }];
    const { dialect } = target;
    const type = target.columns.find((c) => c.name === check.column)!.type;
    const quoted = dialect.quoteIdent(check.column);
    const length = dialect.length(typeFamily(type) === 'string' ? quoted : `CAST(${quoted} AS VARCHAR)`);
    const tests = [check.min === undefined ? '' : `${length} < ${check.min}`, check.max === undefined ? '' : `${length} > ${check.max}`].filter(Boolean);
    const threshold = { min: check.min ?? null, max: check.max ?? null, ...describeTolerance(check) };
    return [
      {
        ...base,
        kind: 'aggregate',
        expressions: {
          outside: `count(CASE WHEN ${quoted} IS NOT NULL AND (${tests.join(' OR ')}) THEN 1 END)`,
          rows: 'count(*)',
          // Shortest and longest actual lengths, for the message: they tell how far off the data is.
          shortest: `min(${length})`,
          longest: `max(${length})`,
        },
        judge(values) {
          const failing = toNumber(values.outside) ?? 0;
          const rows = toNumber(values.rows) ?? 0;
          const span = values.shortest === null ? 'no non-NULL values' : `lengths span [${toNumber(values.shortest)}, ${toNumber(values.longest)}]`;
          return {
            passed: withinTolerance(failing, rows, check),
            observed: failing,
            threshold,
            message: `${failing} of ${rows} rows have "${check.column}" outside [${check.min ?? 0}, ${check.max ?? '∞'}] characters (NULLs ignored); ${span}`,
          };
        },
      },
    ];
  },
};
