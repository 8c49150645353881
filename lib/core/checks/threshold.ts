import * as z from 'zod';

/**
 * How many failing rows a row-level check tolerates: a count (`maxFailing: 10`) or a fraction of
 * the rows (`maxFailingFraction: 0.01`). Default: none.
 */
export const toleranceFields = {
  maxFailing: z.number().int().min(0).optional().meta({ description: 'Failing rows tolerated (count)' }),
  maxFailingFraction: z.number().min(0).max(1).optional().meta({ description: 'Failing rows tolerated, as a fraction of all rows' }),
};

export interface Tolerance {
  maxFailing?: number;
  maxFailingFraction?: number;
}

export function describeTolerance(t: Tolerance): { maxFailing?: number; maxFailingFraction?: number } {
  if (t.maxFailingFraction !== undefined) return { maxFailingFraction: t.maxFailingFraction };
  return { maxFailing: t.maxFailing ?? 0 };
}

export function withinTolerance(failing: number, rows: number, t: Tolerance): boolean {
  if (t.maxFailingFraction !== undefined) return rows === 0 ? failing === 0 : failing / rows <= t.maxFailingFraction;
  return failing <= (t.maxFailing ?? 0);
}
