import * as z from 'zod';
import { CheckDefinition, commonCheckFields } from './check-types';
import { toNumber } from './sql';
import { singleSelectProblem } from '../sql-parameters';
import { toleranceFields } from './threshold';

/** `{{ table }}` (spaces optional) stands for the staged table in the check's SQL. */
const TABLE = /\{\{\s*table\s*\}\}/g;
/** Column carrying the failure count beside the sample rows; unlikely to clash with a user's column. */
const COUNT = '__dropkit_failing';

const schema = z
  .strictObject({
    type: z.literal('custom_sql'),
    ...commonCheckFields,
    sql: z
      .string()
      .min(1)
      .refine((s) => new RegExp(TABLE.source).test(s), { error: 'the SQL must read the staged result through {{ table }}' })
      // One read-only SELECT that cannot break out of the statement dropkit wraps it in.
      .superRefine((s, ctx) => {
        const problem = singleSelectProblem(s);
        if (problem) ctx.addIssue({ code: 'custom', message: `the SQL must be one SELECT over {{ table }}: ${problem}` });
      })
      .meta({ description: 'A query whose returned rows are the failures; {{ table }} stands for the staged result' }),
    sampleSize: z.number().int().min(0).max(20).default(5).meta({ description: 'Failing rows kept in the run record (at most 20)' }),
    maxFailing: toleranceFields.maxFailing,
  })
  .meta({ description: 'Your own SQL over the staged result: every row it returns is a failure' });

/** Engine values made JSON-safe for the run record (bigints, dates, nested values). */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}

export const customSqlCheck: CheckDefinition<typeof schema> = {
  type: 'custom_sql',
  schema,
  compile(check, target) {
    // Newlines around the user's SQL keep a trailing `-- comment` from swallowing our closing parenthesis.
    const failures = `(\n${check.sql.replace(TABLE, target.table).replace(/[\s;]+$/, '')}\n)`;
    // One statement: the full count (an aggregate, so it spreads over Athena's workers) beside at
    // most sampleSize rows; the LEFT JOIN still yields the count when nothing fails.
    const sql =
      `SELECT c."${COUNT}", s.* FROM (SELECT count(*) AS "${COUNT}" FROM ${failures} f) c ` +
      `LEFT JOIN (SELECT * FROM ${failures} f LIMIT ${check.sampleSize}) s ON TRUE`;
    const maxFailing = check.maxFailing ?? 0;
    return [
      {
        kind: 'query',
        type: 'custom_sql',
        name: check.name ?? 'custom_sql',
        severity: check.severity,
        sql,
        judge(rows) {
          const failing = toNumber(rows[0]?.[COUNT]) ?? 0;
          const sample = failing === 0 ? [] : rows.slice(0, check.sampleSize).map(({ [COUNT]: _count, ...row }) => jsonSafe(row) as Record<string, unknown>);
          return {
            passed: failing <= maxFailing,
            observed: failing,
            threshold: { maxFailing },
            message: `the check query returned ${failing} failing row${failing === 1 ? '' : 's'}`,
            sample,
          };
        },
      },
    ];
  },
};
