import * as z from 'zod';
import { isDuration, MAX_DURATION_DAYS, MAX_DURATION_SECONDS, parseDurationSeconds } from '../duration';
import { CheckDefinition, commonCheckFields } from './check-types';
import { readTimestamp } from './dialect';
import { typeFamily } from './schema';
import { missingColumns, toNumber, unknownColumnError } from './sql';

const schema = z
  .strictObject({
    type: z.literal('freshness'),
    ...commonCheckFields,
    column: z.string().min(1).meta({ description: 'A date or timestamp column (zoneless timestamps are read as UTC)' }),
    maxLag: z
      .string()
      .refine(isDuration, { error: 'maxLag is an ISO-8601 duration in weeks, days, hours, minutes or seconds, e.g. PT6H or P1D' })
      .refine((d) => (parseDurationSeconds(d) ?? 0) <= MAX_DURATION_SECONDS, {
        error: `maxLag must be at most ${MAX_DURATION_DAYS} days (P${MAX_DURATION_DAYS}D)`,
        params: { fix: `give a lag of at most P${MAX_DURATION_DAYS}D, e.g. PT6H or P1D` },
      })
      .meta({ description: 'How far the newest value may lie before the end of the slot’s data interval (ISO-8601 duration)' }),
  })
  .meta({ description: 'The newest value of the column is no older than the end of the data interval minus maxLag; an empty result fails' });

export const freshnessCheck: CheckDefinition<typeof schema> = {
  type: 'freshness',
  schema,
  compile(check, target) {
    const name = check.name ?? `freshness(${check.column})`;
    const base = { type: 'freshness', name, severity: check.severity } as const;
    const missing = missingColumns([check.column], target.columns);
    if (missing.length) return [{ ...base, kind: 'invalid', error: unknownColumnError(missing, target.columns) }];
    const type = target.columns.find((c) => c.name === check.column)!.type;
    if (typeFamily(type) !== 'temporal') {
      return [{ ...base, kind: 'invalid', error: `freshness needs a date or timestamp column; "${check.column}" is ${type}` }];
    }
    // Measured against the slot, not the wall clock, so a backfill of an old slot is judged fairly.
    const end = Date.parse(target.slot.dataInterval.end);
    const maxLagSeconds = parseDurationSeconds(check.maxLag)!;
    const threshold = { maxLag: check.maxLag, notBefore: new Date(end - maxLagSeconds * 1000).toISOString() };
    return [
      {
        ...base,
        kind: 'aggregate',
        expressions: { newest: `max(${target.dialect.quoteIdent(check.column)})`, rows: 'count(*)' },
        judge(values) {
          const newest = readTimestamp(values.newest);
          if (newest === null && values.newest !== null && values.newest !== undefined) {
            throw new Error(`cannot read ${String(values.newest)} as a timestamp`);
          }
          if (newest === null) {
            const rows = toNumber(values.rows) ?? 0;
            const why = rows === 0 ? 'the result is empty, so there is no newest value' : `"${check.column}" is NULL in all ${rows} rows`;
            return { passed: false, observed: { newest: null, lagSeconds: null }, threshold, message: `not fresh: ${why}` };
          }
          const lagSeconds = (end - Date.parse(newest)) / 1000;
          const passed = lagSeconds <= maxLagSeconds;
          return {
            passed,
            observed: { newest, lagSeconds },
            threshold,
            message: `newest "${check.column}" is ${newest}, ${lagSeconds} s before the end of the data interval (${target.slot.dataInterval.end}); allowed ${check.maxLag}`,
          };
        },
      },
    ];
  },
};
