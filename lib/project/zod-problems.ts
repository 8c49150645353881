import type * as z from 'zod';
import { CHECK_TYPES } from '../core/checks/registry';
import { didYouMean } from '../core/did-you-mean';
import type { ConfigProblem } from '../core/errors';
import { RULE_FIXES } from '../core/feed/feed-schema';

/** Turns zod issues into problems that name the field, show the bad value and say the fix. */
export function zodProblems(file: string, raw: unknown, issues: readonly z.core.$ZodIssue[], schema?: z.ZodType): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const near = schema ? didYouMean(key, keysAt(schema, path)) : undefined;
        return {
          file,
          path: [...path, key].join('.'),
          message: near ? `unknown field; did you mean "${near}"?` : 'unknown field',
          fix: `remove "${key}" or correct its spelling${path.length ? ` (inside ${path.join('.')})` : ''}; see schemas/feed.schema.json for the fields`,
        };
      });
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
      // zod may or may not end the path at the discriminator itself: name it once.
      const at = path[path.length - 1] === 'type' ? path : [...path, 'type'];
      const bad = valueAt(raw, at);
      const types = CHECK_TYPES.map((c) => c.type);
      const near = typeof bad === 'string' ? didYouMean(bad, types) : undefined;
      return [
        {
          file,
          path: at.join('.'),
          message: near ? `unknown type; did you mean "${near}"?` : 'unknown type',
          value: bad,
          fix: `use one of: ${types.join(', ')}`,
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

type Def = { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[] };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The fields a schema allows at a path (for "did you mean"); a union offers every option's. */
export function keysAt(schema: z.ZodType, path: readonly string[]): string[] {
  const d = defOf(unwrap(schema));
  if (d.options) return [...new Set(d.options.flatMap((o) => keysAt(o, path)))];
  if (path.length === 0) return d.shape ? Object.keys(d.shape) : [];
  const next = d.shape ? d.shape[path[0]] : d.element;
  return next ? keysAt(next, path.slice(1)) : [];
}

function unwrap(s: z.ZodType): z.ZodType {
  const d = defOf(s);
  const inner = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
  return inner ? unwrap(inner) : s;
}
