import * as z from 'zod';
import { CheckDefinition, commonCheckFields } from './check-types';
import { typeFamily } from './schema';
import { missingColumns, toNumber, unknownColumnError } from './sql';
import { describeTolerance, toleranceFields, withinTolerance } from './threshold';

/**
 * The pattern is checked with JavaScript's RegExp when the feed is loaded, which catches typos
 * early. The engines do not use JavaScript's syntax, though: DuckDB uses RE2 (no look-around, no
 * back-references) and Athena/Trino uses Joni (Java-like, has both). A pattern JavaScript accepts
 * but the engine rejects fails at run time and is recorded as `error` for this check alone. Keep to
 * the common subset: classes, quantifiers, anchors, groups and alternation.
 */
function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

const schema = z
  .strictObject({
    type: z.literal('regex'),
    ...commonCheckFields,
    column: z.string().min(1),
    pattern: z
      .string()
      .min(1)
      .refine(compiles, { error: 'not a valid regular expression' })
      .meta({ description: 'Regular expression each value must match somewhere (anchor with ^…$ to match the whole value)' }),
    ...toleranceFields,
  })
  .meta({ description: 'Every non-NULL value of the column matches the pattern (NULLs are ignored)' });

export const regexCheck: CheckDefinition<typeof schema> = {
  type: 'regex',
  schema,
  compile(check, target) {
    const name = check.name ?? `regex(${check.column})`;
    const base = { type: 'regex', name, severity: check.severity } as const;
    const missing = missingColumns([check.column], target.columns);
    if (missing.length) return [{ ...base, kind: 'invalid', error: unknownColumnError(missing, target.columns) }];
    const { dialect } = target;
    const type = target.columns.find((c) => c.name === check.column)!.type;
    // Non-text columns (codes stored as numbers) are matched on their text form.
    const quoted = dialect.quoteIdent(check.column);
    const text = typeFamily(type) === 'string' ? quoted : `CAST(${quoted} AS VARCHAR)`;
    const threshold = { pattern: check.pattern, ...describeTolerance(check) };
    return [
      {
        ...base,
        kind: 'aggregate',
        expressions: {
          unmatched: `count(CASE WHEN ${quoted} IS NOT NULL AND NOT ${dialect.regexMatches(text, check.pattern)} THEN 1 END)`,
          rows: 'count(*)',
        },
        judge(values) {
          const failing = toNumber(values.unmatched) ?? 0;
          const rows = toNumber(values.rows) ?? 0;
          return {
            passed: withinTolerance(failing, rows, check),
            observed: failing,
            threshold,
            message: `${failing} of ${rows} rows have "${check.column}" not matching /${check.pattern}/ (NULLs ignored)`,
          };
        },
      },
    ];
  },
};
