import { z } from 'zod';
import type { CheckDefinition } from './check-types';
import { notNullCheck } from './not-null';
import { rowCountCheck } from './row-count';
import { uniqueCheck } from './unique';

/** Every check type a feed can use. Adding a type: write its file, list it here. */
export const CHECK_TYPES = [rowCountCheck, notNullCheck, uniqueCheck] as const;

export const checkSchema = z.discriminatedUnion(
  'type',
  CHECK_TYPES.map((c) => c.schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

export type CheckConfig = { type: string; severity: 'error' | 'warn'; name?: string } & Record<string, unknown>;

export function checkDefinition(type: string): CheckDefinition | undefined {
  return (CHECK_TYPES as readonly CheckDefinition<any>[]).find((c) => c.type === type);
}
