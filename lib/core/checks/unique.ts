import * as z from 'zod';
import { CheckDefinition, commonCheckFields } from './check-types';
import { missingColumns, toNumber, unknownColumnError } from './sql';
import { describeTolerance, toleranceFields, withinTolerance } from './threshold';

const schema = z
  .strictObject({
    type: z.literal('unique'),
    ...commonCheckFields,
    columns: z.array(z.string().min(1)).min(1).meta({ description: 'One column, or several that together form the key' }),
    ...toleranceFields,
  })
  .meta({ description: 'No two rows share the key. Rows with a NULL in the key are not compared (SQL semantics)' });

export const uniqueCheck: CheckDefinition<typeof schema> = {
  type: 'unique',
  schema,
  compile(check, target) {
    const name = check.name ?? `unique(${check.columns.join(', ')})`;
    const missing = missingColumns(check.columns, target.columns);
    if (missing.length) {
      return [{ kind: 'invalid', type: 'unique', name, severity: check.severity, error: unknownColumnError(missing, target.columns) }];
    }
    const quoteIdent = (c: string) => target.dialect.quoteIdent(c);
    const key = check.columns.map(quoteIdent).join(', ');
    const notNull = check.columns.map((c) => `${quoteIdent(c)} IS NOT NULL`).join(' AND ');
    // Observed: rows beyond the first of each key, i.e. how many rows would have to go to make the key unique.
    // Two one-row aggregates side by side (no scalar subquery in the select list: Trino grammars
    // that the tests parse Athena's SQL with do not take one).
    const sql =
      `SELECT coalesce(d.duplicates, 0) AS duplicates, r.n AS "rows" ` +
      `FROM (SELECT count(*) AS n FROM ${target.table}) r ` +
      `CROSS JOIN (SELECT sum(n - 1) AS duplicates FROM (SELECT count(*) AS n FROM ${target.table} WHERE ${notNull} GROUP BY ${key} HAVING count(*) > 1) g) d`;
    const threshold = describeTolerance(check);
    return [
      {
        kind: 'query',
        type: 'unique',
        name,
        severity: check.severity,
        sql,
        judge(rows) {
          const duplicates = toNumber(rows[0]?.duplicates) ?? 0;
          const total = toNumber(rows[0]?.rows) ?? 0;
          const passed = withinTolerance(duplicates, total, check);
          return { passed, observed: duplicates, threshold, message: `${duplicates} duplicate rows on (${check.columns.join(', ')})` };
        },
      },
    ];
  },
};
