import type { z } from 'zod';
import type { ConfigProblem } from '../core/errors';
import { RULE_FIXES } from '../core/feed/feed-schema';

/** Turns zod issues into problems that name the field, show the bad value and say the fix. */
export function zodProblems(file: string, raw: unknown, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        file,
        path: [...path, key].join('.'),
        message: 'unknown field',
        fix: `remove "${key}" or correct its spelling${path.length ? ` (inside ${path.join('.')})` : ''}; see schemas/feed.schema.json for the fields`,
      }));
    }
    const value = valueAt(raw, path);
    if (issue.code === 'invalid_type' && value === undefined) {
      return [{ file, path: path.join('.'), message: 'required field is missing', fix: `add ${path[path.length - 1]}: (${issue.expected})` }];
    }
    if (issue.code === 'invalid_value') {
      return [
        { file, path: path.join('.'), message: 'not an allowed value', value, fix: `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` },
      ];
    }
    if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
      return [
        {
          file,
          path: [...path, 'type'].join('.'),
          message: 'unknown type',
          value: valueAt(raw, [...path, 'type']),
          fix: 'use one of the types listed in schemas/feed.schema.json',
        },
      ];
    }
    if (issue.code === 'invalid_key') {
      // A record's key broke a rule (a parameter or source name): say that rule and its fix.
      const inner = issue.issues[0];
      const message = inner?.message ?? issue.message;
      return [
        { file, path: path.join('.'), message, value: path[path.length - 1], fix: RULE_FIXES.get(message) ?? (inner && fixFor(inner as z.core.$ZodIssue)) },
      ];
    }
    return [{ file, path: path.join('.'), message: issue.message, value, fix: fixFor(issue) }];
  });
}

function fixFor(issue: z.core.$ZodIssue): string | undefined {
  // A refinement can carry its own fix (params.fix): the message says what is wrong, the fix what to do.
  if (issue.code === 'custom' && typeof issue.params?.fix === 'string') return issue.params.fix;
  // Or the schema says it beside the rule.
  const ruled = RULE_FIXES.get(issue.message);
  if (ruled) return ruled;
  if (issue.code === 'invalid_type') return `give a ${issue.expected}`;
  if (issue.code === 'too_small' || issue.code === 'too_big') return 'change the value to fit the limit in the message';
  return undefined;
}

export function valueAt(raw: unknown, path: readonly string[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}
