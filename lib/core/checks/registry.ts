import * as z from 'zod';
import { acceptedValuesCheck } from './accepted-values';
import type { CheckDefinition } from './check-types';
import { customSqlCheck } from './custom-sql';
import { driftCheck } from './drift';
import { freshnessCheck } from './freshness';
import { notNullCheck } from './not-null';
import { rangeCheck } from './range';
import { regexCheck } from './regex';
import { rowCountCheck } from './row-count';
import { rowCountChangeCheck } from './row-count-change';
import { schemaCheck } from './schema';
import { stringLengthCheck } from './string-length';
import { uniqueCheck } from './unique';

/** Every check type a feed can use. Adding a type: write its file, list it here. */
export const CHECK_TYPES = [
  rowCountCheck,
  rowCountChangeCheck,
  notNullCheck,
  uniqueCheck,
  acceptedValuesCheck,
  rangeCheck,
  regexCheck,
  stringLengthCheck,
  freshnessCheck,
  schemaCheck,
  customSqlCheck,
  driftCheck,
] as const;

export const checkSchema = z.discriminatedUnion('type', CHECK_TYPES.map((c) => c.schema) as unknown as [z.ZodObject, ...z.ZodObject[]]);

export type CheckConfig = { type: string; severity: 'error' | 'warn'; name?: string } & Record<string, unknown>;

export function checkDefinition(type: string): CheckDefinition | undefined {
  return (CHECK_TYPES as readonly CheckDefinition<any>[]).find((c) => c.type === type);
}
