import * as z from 'zod';
import type { ColumnSchema } from '../ports/query-engine';
import type { Manifest, SlotInfo } from '../manifest';
import type { Profile } from '../profile/profile';
import type { SqlDialect } from './dialect';

/**
 * The check model. A check type is a zod schema (what the feed file says) plus `compile`, which
 * turns one configured check into SQL over the staged table and a function that judges the result.
 * The validate step knows nothing of individual types, so adding one means adding a file and
 * listing it in `registry.ts`.
 */

export const severitySchema = z.enum(['error', 'warn']).default('error').meta({
  description: 'error: a failing check blocks publishing; warn: it is recorded and the drop is delivered',
});
export type Severity = z.output<typeof severitySchema>;

export type Outcome = CheckResult['outcome'];

/** Fields every check accepts. */
export const commonCheckFields = {
  name: z.string().min(1).optional().meta({ description: 'Readable name; default derived from the type and columns' }),
  severity: severitySchema,
};

/** What the SQL of a check is run over. */
export interface CheckTarget {
  /** The staged table, already quoted for the engine. */
  readonly table: string;
  readonly columns: readonly ColumnSchema[];
  readonly dialect: SqlDialect;
  /** The slot being delivered (freshness checks compare against its data interval). */
  readonly slot: SlotInfo;
  /** The previous delivered drop of the same feed and partner, if there is one. */
  readonly previous: PreviousDrop | null;
}

export interface PreviousDrop {
  readonly runId: string;
  readonly slot: string;
  readonly rowCount: number;
  /** Its profile, when its manifest has one (drift checks compare against it). */
  readonly profile?: Profile | null;
}

/** The verdict of one check before severity is applied. */
export interface Judgement {
  readonly passed: boolean;
  readonly observed: unknown;
  readonly threshold: unknown;
  readonly message: string;
  /** A few failing rows, for the run record only (never the whole set, never the manifest). */
  readonly sample?: readonly Record<string, unknown>[];
}

/**
 * One executable check. `aggregate` checks are single-row aggregate expressions over the staged
 * table, so the validate step can run many of them in one scan; `query` checks need their own
 * statement; `static` checks are judged from the target alone (e.g. the staged schema), with no SQL;
 * `profile` checks are judged from this drop's profile (computed in the aggregate scan);
 * `invalid` checks could be judged unrunnable before any SQL (e.g. an unknown column).
 */
export type CompiledCheck = { readonly name: string; readonly type: string; readonly severity: Severity } & (
  | { readonly kind: 'aggregate'; readonly expressions: Readonly<Record<string, string>>; judge(values: Record<string, unknown>): Judgement }
  | { readonly kind: 'query'; readonly sql: string; judge(rows: Record<string, unknown>[]): Judgement }
  | { readonly kind: 'static'; judge(): Judgement }
  | { readonly kind: 'profile'; judge(profile: Profile): Judgement }
  | { readonly kind: 'invalid'; readonly error: string }
);

export interface CheckDefinition<S extends z.ZodObject = z.ZodObject> {
  readonly type: string;
  readonly schema: S;
  compile(check: z.output<S>, target: CheckTarget): CompiledCheck[];
}

/** The recorded result of a check, as it goes into the run record and the manifest. */
export type CheckResult = Manifest['validation']['checks'][number] & {
  /** A few failing rows, kept in the run record (not in the manifest). */
  readonly sample?: readonly Record<string, unknown>[];
};
