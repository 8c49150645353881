import * as z from 'zod';
import { CheckDefinition, commonCheckFields, CompiledCheck } from './check-types';
import { missingColumns, toNumber, unknownColumnError } from './sql';
import { describeTolerance, toleranceFields, withinTolerance } from './threshold';

const schema = z
  .strictObject({
    type: z.literal('not_null'),
    ...commonCheckFields,
    columns: z.array(z.string().min(1)).min(1),
    ...toleranceFields,
  })
  .meta({ description: 'The columns hold no NULL (one result per column)' });

export const notNullCheck: CheckDefinition<typeof schema> = {
  type: 'not_null',
  schema,
  compile(check, target) {
    return check.columns.map((column): CompiledCheck => {
      const name = check.name ? `${check.name}(${column})` : `not_null(${column})`;
      const missing = missingColumns([column], target.columns);
      if (missing.length) {
        return { kind: 'invalid', type: 'not_null', name, severity: check.severity, error: unknownColumnError(missing, target.columns) };
      }
      const threshold = describeTolerance(check);
      return {
        kind: 'aggregate',
        type: 'not_null',
        name,
        severity: check.severity,
        expressions: { nulls: `count(*) - count(${target.dialect.quoteIdent(column)})`, rows: 'count(*)' },
        judge(values) {
          const nulls = toNumber(values.nulls) ?? 0;
          const rows = toNumber(values.rows) ?? 0;
          const passed = withinTolerance(nulls, rows, check);
          return { passed, observed: nulls, threshold, message: `${nulls} of ${rows} rows have NULL in "${column}"` };
        },
      };
    });
  },
};
