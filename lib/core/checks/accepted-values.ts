import * as z from 'zod';
import { CheckDefinition, commonCheckFields } from './check-types';
import { isoInstant, SqlDialect } from './dialect';
import { typeFamily, TypeFamily } from './schema';
import { missingColumns, toNumber, unknownColumnError } from './sql';
import { describeTolerance, toleranceFields, withinTolerance } from './threshold';

const value = z.union([z.string(), z.number(), z.boolean()]);

const schema = z
  .strictObject({
    type: z.literal('accepted_values'),
    ...commonCheckFields,
    column: z.string().min(1),
    values: z.array(value).min(1).meta({ description: 'The values the column may hold' }),
    ...toleranceFields,
  })
  .meta({ description: 'Every non-NULL value of the column is one of `values` (NULLs are ignored: add not_null to forbid them)' });

/** A literal typed like the column, so `values: [1, 2]` works on a VARCHAR code column and no engine has to guess a cast. */
function literal(v: string | number | boolean, family: TypeFamily, dialect: SqlDialect): string {
  if (family === 'string') return dialect.string(String(v));
  // Trino compares no number or date with a string (DuckDB casts the string): give it a typed literal.
  if (typeof v === 'string' && family === 'numeric' && v.trim() !== '' && Number.isFinite(Number(v))) return String(Number(v));
  if (typeof v === 'string' && family === 'temporal' && isoInstant(v) !== null) return dialect.timestamp(isoInstant(v)!);
  if (typeof v === 'string') return dialect.string(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return String(v);
}

export const acceptedValuesCheck: CheckDefinition<typeof schema> = {
  type: 'accepted_values',
  schema,
  compile(check, target) {
    const name = check.name ?? `accepted_values(${check.column})`;
    const base = { type: 'accepted_values', name, severity: check.severity } as const;
    const missing = missingColumns([check.column], target.columns);
    if (missing.length) return [{ ...base, kind: 'invalid', error: unknownColumnError(missing, target.columns) }];
    const column = target.columns.find((c) => c.name === check.column)!;
    const family = typeFamily(column.type);
    const { dialect } = target;
    const col = dialect.quoteIdent(check.column);
    const list = check.values.map((v) => literal(v, family, dialect)).join(', ');
    const outside = `${col} IS NOT NULL AND ${col} NOT IN (${list})`;
    const threshold = { values: check.values, ...describeTolerance(check) };
    return [
      {
        ...base,
        kind: 'aggregate',
        expressions: {
          outside: `count(CASE WHEN ${outside} THEN 1 END)`,
          rows: 'count(*)',
          // One offending value makes the message actionable at no extra cost.
          example: `min(CASE WHEN ${outside} THEN CAST(${col} AS VARCHAR) END)`,
        },
        judge(values) {
          const failing = toNumber(values.outside) ?? 0;
          const rows = toNumber(values.rows) ?? 0;
          const example = values.example === null || values.example === undefined ? '' : `, e.g. '${String(values.example)}'`;
          return {
            passed: withinTolerance(failing, rows, check),
            observed: failing,
            threshold,
            message: `${failing} of ${rows} rows have "${check.column}" outside the accepted values (NULLs ignored)${example}`,
          };
        },
      },
    ];
  },
};
