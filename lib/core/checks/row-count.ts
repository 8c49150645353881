import * as z from 'zod';
import { CheckDefinition, commonCheckFields } from './check-types';
import { toNumber } from './sql';

const schema = z
  .strictObject({
    type: z.literal('row_count'),
    ...commonCheckFields,
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(0).optional(),
  })
  .meta({ description: 'The number of rows lies in [min, max]' });

export const rowCountCheck: CheckDefinition<typeof schema> = {
  type: 'row_count',
  schema,
  compile(check) {
    const threshold = { min: check.min ?? null, max: check.max ?? null };
    return [
      {
        kind: 'aggregate',
        type: 'row_count',
        name: check.name ?? 'row_count',
        severity: check.severity,
        expressions: { rows: 'count(*)' },
        judge(values) {
          const rows = toNumber(values.rows) ?? 0;
          const passed = (check.min === undefined || rows >= check.min) && (check.max === undefined || rows <= check.max);
          const range = `[${check.min ?? 0}, ${check.max ?? '∞'}]`;
          return {
            passed,
            observed: rows,
            threshold,
            message: passed ? `${rows} rows, within ${range}` : `${rows} rows, outside ${range}`,
          };
        },
      },
    ];
  },
};
