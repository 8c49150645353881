import * as z from 'zod';
import { CheckDefinition, commonCheckFields } from './check-types';
import { toNumber } from './sql';

const percent = z.number().min(0);

const schema = z
  .strictObject({
    type: z.literal('row_count_change'),
    ...commonCheckFields,
    maxIncreasePercent: percent.optional().meta({ description: 'Largest allowed growth against the previous drop, in percent' }),
    maxDecreasePercent: percent.optional().meta({ description: 'Largest allowed shrinkage against the previous drop, in percent' }),
  })
  .refine((c) => c.maxIncreasePercent !== undefined || c.maxDecreasePercent !== undefined, { error: 'give maxIncreasePercent, maxDecreasePercent or both' })
  .meta({
    description:
      'The row count changed by no more than the given percentages since the previous delivered drop of the same feed and partner; passes when there is none',
  });

const round2 = (n: number) => Math.round(n * 100) / 100;

export const rowCountChangeCheck: CheckDefinition<typeof schema> = {
  type: 'row_count_change',
  schema,
  compile(check, target) {
    const threshold = { maxIncreasePercent: check.maxIncreasePercent ?? null, maxDecreasePercent: check.maxDecreasePercent ?? null };
    const previous = target.previous;
    return [
      {
        kind: 'aggregate',
        type: 'row_count_change',
        name: check.name ?? 'row_count_change',
        severity: check.severity,
        expressions: { rows: 'count(*)' },
        judge(values) {
          if (!previous) return { passed: true, observed: null, threshold, message: 'no previous drop to compare with' };
          const current = toNumber(values.rows) ?? 0;
          const before = previous.rowCount;
          // From an empty previous drop any growth is unbounded: there is no percentage, and a max increase fails.
          const change = before === 0 ? (current === 0 ? 0 : Infinity) : ((current - before) / before) * 100;
          const tooHigh = check.maxIncreasePercent !== undefined && change > check.maxIncreasePercent;
          const tooLow = check.maxDecreasePercent !== undefined && -change > check.maxDecreasePercent;
          const changePercent = Number.isFinite(change) ? round2(change) : null;
          const shown = changePercent === null ? 'up from none' : `${changePercent >= 0 ? '+' : ''}${changePercent}%`;
          const allowed = [
            check.maxIncreasePercent === undefined ? '' : `+${check.maxIncreasePercent}%`,
            check.maxDecreasePercent === undefined ? '' : `-${check.maxDecreasePercent}%`,
          ].filter(Boolean);
          return {
            passed: !tooHigh && !tooLow,
            observed: { previous: before, current, changePercent, previousRunId: previous.runId },
            threshold,
            message: `${current} rows against ${before} in the previous drop (run ${previous.runId}): ${shown}, allowed ${allowed.join(' / ')}`,
          };
        },
      },
    ];
  },
};
