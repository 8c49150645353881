import { Duration, Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ATHENA_RESULTS_PREFIX, stagingRoot } from '../core/layout';
import { LONGEST_STEP } from './dropkit-function';
import { DeployConfigError } from './errors';
import type { FileExchangeProps } from './file-exchange-props';

/** One bad prop: which, its value, and what to do. */
export interface PropProblem {
  readonly prop: string;
  readonly value: string;
  readonly problem: string;
  readonly fix: string;
}

/** Athena's smallest per-query bytes-scanned cutoff (the workgroup refuses less). */
export const MIN_BYTES_SCANNED_CUTOFF = 10_000_000;

type Rule = (props: FileExchangeProps) => PropProblem | readonly PropProblem[] | undefined;

const shown = (v: unknown) => (v instanceof Duration ? v.toHumanString() : JSON.stringify(v));
const unresolved = (v: unknown) => (typeof v === 'number' || typeof v === 'string') && Token.isUnresolved(v);

/** A number rule, skipped when the prop is unset or a token (known only at deploy). */
function numberRule(prop: keyof FileExchangeProps, ok: (n: number) => boolean, problem: string, fix: string): Rule {
  return (props) => {
    const v = props[prop] as unknown;
    if (v === undefined || unresolved(v)) return undefined;
    return typeof v === 'number' && Number.isFinite(v) && ok(v) ? undefined : { prop, value: shown(v), problem, fix };
  };
}

function durationRule(prop: keyof FileExchangeProps, ok: (seconds: number) => boolean, problem: string, fix: string): Rule {
  return (props) => {
    const v = props[prop] as Duration | undefined;
    if (v === undefined || v.isUnresolved()) return undefined;
    return ok(v.toSeconds({ integral: false })) ? undefined : { prop, value: shown(v), problem, fix };
  };
}

/** Segments of lower-case letters, digits, `.`, `-`, `_`, joined by single slashes: a layout prefix S3, IAM and Athena all take as written. */
const KEY_PREFIX = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

const RULES: readonly Rule[] = [
  numberRule(
    'partnerConcurrency',
    (n) => Number.isInteger(n) && n >= 1,
    'must be a whole number of at least 1 (a Map with 0 runs every partner at once)',
    'set partnerConcurrency to 1 or more, e.g. 4',
  ),
  numberRule('partnerRateLimit', (n) => n > 0, 'must be more than 0 requests per second', 'set partnerRateLimit to a positive number, e.g. 5'),
  numberRule(
    'bytesScannedCutoffPerQuery',
    (n) => Number.isInteger(n) && n >= MIN_BYTES_SCANNED_CUTOFF,
    `is below Athena's minimum of ${MIN_BYTES_SCANNED_CUTOFF} bytes (10 MB)`,
    'set bytesScannedCutoffPerQuery to 10000000 or more, e.g. 10 * 1024 ** 3 for 10 GiB',
  ),
  numberRule('feedsPerNestedStack', (n) => Number.isInteger(n) && n >= 1, 'must be a whole number of at least 1', 'set feedsPerNestedStack to e.g. 120'),
  numberRule('inlineFeedLimit', (n) => Number.isInteger(n) && n >= 0, 'must be a whole number of 0 or more', 'set inlineFeedLimit to e.g. 40'),
  durationRule(
    'leaseTtl',
    (s) => s > LONGEST_STEP.toSeconds(),
    `must be longer than the longest step (${LONGEST_STEP.toHumanString()}), or a live run loses its slot to a second one`,
    'set leaseTtl to Duration.hours(2) (the default) or at least Duration.minutes(30)',
  ),
  durationRule('queryPollInterval', (s) => s >= 1 && s <= 300, 'must be between 1 second and 5 minutes', 'set queryPollInterval to e.g. Duration.seconds(10)'),
  durationRule('stagingExpiration', (s) => s >= 86_400 && s % 86_400 === 0, 'must be whole days, at least 1', 'set stagingExpiration to e.g. Duration.days(3)'),
  durationRule(
    'noncurrentVersionExpiration',
    (s) => s >= 86_400 && s % 86_400 === 0,
    'must be whole days, at least 1',
    'set noncurrentVersionExpiration to e.g. Duration.days(30)',
  ),
  (props) =>
    props.keyPrefix === undefined || unresolved(props.keyPrefix) || KEY_PREFIX.test(props.keyPrefix)
      ? undefined
      : {
          prop: 'keyPrefix',
          value: shown(props.keyPrefix),
          problem: 'must be lower-case letters, digits, ".", "-" or "_" in segments joined by single "/", with no leading or trailing "/"',
          fix: 'set keyPrefix (the project\'s `prefix`) to e.g. "drops" or "exchange/shop"',
        },
  // Existing or new, never both: these shape a bucket the construct makes (or one of this app it can add rules to).
  (props) =>
    props.existingBucket && !(props.existingBucket instanceof s3.Bucket)
      ? (['stagingExpiration', 'noncurrentVersionExpiration', 'removalPolicy'] as const)
          .filter((prop) => props[prop] !== undefined)
          .map((prop) => ({
            prop,
            value: shown(props[prop]),
            problem: "shapes a bucket the construct makes, but existingBucket is an imported bucket whose lifecycle and removal are its owner's",
            fix: `drop ${prop}, or set the rule on your bucket (expire ${stagingRoot('<prefix>')}/ and ${ATHENA_RESULTS_PREFIX} there)`,
          }))
      : undefined,
  (props) =>
    Object.entries(props.iamPartners ?? {})
      .filter(([, account]) => !/^\d{12}$/.test(account))
      .map(([id, account]) => ({
        prop: `iamPartners.${id}`,
        value: shown(account),
        problem: 'is not a 12-digit AWS account id',
        fix: `map partner ${id} to its 12-digit AWS account id`,
      })),
];

/** Every problem of the props, by the rule table (aws-cdk's validate-*-props style): none when they are all good. */
export function propProblems(props: FileExchangeProps): PropProblem[] {
  return RULES.flatMap((rule) => rule(props) ?? []);
}

/** Throws one DeployConfigError listing every problem, each with its prop, bad value and fix. */
export function validateProps(props: FileExchangeProps): void {
  const problems = propProblems(props);
  if (problems.length === 0) return;
  throw new DeployConfigError(
    `FileExchange: ${problems.length} invalid prop${problems.length === 1 ? '' : 's'}:\n` +
      problems.map((p) => `  - ${p.prop}: ${p.value} ${p.problem}\n    fix: ${p.fix}`).join('\n'),
  );
}
