import { CfnResource, IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { DIFF_TABLE_PREFIX } from '../core/deploy-contract';
import { escapeRegExp, LATEST_FILE, pattern } from '../core/layout';

/**
 * A wildcard finding on an object-key pattern of the layout, under any bucket and prefix: built
 * from lib/core/layout.ts `pattern` (what key-scopes.ts grants), so a layout change moves it too.
 */
function keyPatternFinding(...patterns: readonly ((prefix: string) => string)[]): RegExp {
  return new RegExp(`^Resource::.*/(?:${patterns.map((p) => escapeRegExp(p(''))).join('|')})$`);
}

/** The names of a construct's own resources that its policies grant with a wildcard. */
export interface GrantedNames {
  /** The Glue database of the staging tables. */
  readonly stagingDatabase: string;
  /** Every feed topic is named `<feedTopicPrefix><feed>`. */
  readonly feedTopicPrefix: string;
  /** Every partner's key-hash secret is named `<partnerSecretPrefix><partner>`. */
  readonly partnerSecretPrefix: string;
}

export interface WildcardReason {
  readonly finding: RegExp;
  readonly reason: string;
}

/**
 * Why each kind of wildcard in a construct's IAM policies is there, for its own resources' names.
 * A wildcard that matches none of these is left unacknowledged, so a rule pack (cdk-nag
 * AwsSolutions-IAM5) reports it.
 */
export function wildcardReasons(names: GrantedNames): readonly WildcardReason[] {
  const db = escapeRegExp(names.stagingDatabase);
  return [
    { finding: /^Resource::\*$/, reason: 'X-Ray (PutTraceSegments, PutTelemetryRecords), and Step Functions log delivery, have no resource-level permissions' },
    {
      finding: keyPatternFinding(pattern.dropFiles),
      reason: 'published drops: one prefix per feed, partner, slot and run, named by the layout (lib/core/layout.ts) at run time',
    },
    { finding: keyPatternFinding(pattern.latest), reason: `each feed's (and partner's) ${LATEST_FILE} pointer` },
    {
      finding: keyPatternFinding(pattern.leases, pattern.runs, pattern.staging, pattern.sla, pattern.approvals),
      reason:
        "per-slot leases, run records, per-attempt staging, the SLA watch's per-slot state and per-slot holds for sign-off: keys named by run id or slot at run time",
    },
    {
      finding: keyPatternFinding(pattern.deliveries),
      reason: 'what destinations were sent: one record and change-set folder per run and destination, named at run time',
    },
    {
      finding: new RegExp(`^Resource::arn:.*:glue:.*:table/${db}/${escapeRegExp(DIFF_TABLE_PREFIX)}\\*$`),
      reason: `the Athena diff's own temporary tables (${DIFF_TABLE_PREFIX}*), created and dropped by the push function in the staging database`,
    },
    {
      finding: /^Resource::arn:.*:secretsmanager:.*:secret:.+-\?\?\?\?\?\?$/,
      reason: "one declared secret by name: Secrets Manager appends six random characters to a secret's ARN",
    },
    { finding: keyPatternFinding(pattern.athenaResults), reason: 'Athena query results of the workgroup: one object per query execution' },
    {
      finding: new RegExp(`^Resource::arn:.*:glue:.*:table/${db}/\\*$`),
      reason: 'staging tables: one per run attempt, created and dropped by the runs in the staging database',
    },
    {
      finding: new RegExp(`^Resource::arn:.*:sns:.*:${escapeRegExp(names.feedTopicPrefix)}\\*$`),
      reason: `the feed topics: one per feed, named ${names.feedTopicPrefix}<feed>`,
    },
    {
      finding: new RegExp(`^Resource::arn:.*:secretsmanager:.*:secret:${escapeRegExp(names.partnerSecretPrefix)}\\*$`),
      reason: `one key-hash secret per partner, named ${names.partnerSecretPrefix}<partner>`,
    },
    {
      finding: /^Resource::arn:.*:states:.*:execution:.*(\/Partner)?:\*$/,
      reason: "the Partners Distributed Map's child executions (one per partner run) of this state machine, named by Step Functions at run time",
    },
    {
      finding: /^Resource::<[A-Za-z0-9]+Function[A-F0-9]{8}\.Arn>:\*$/,
      reason: 'Step Functions invokes the step function by its ARN and its versions/aliases',
    },
    {
      finding: /^Action::kms:GenerateDataKey\*$/,
      reason: 'publishing to an encrypted SNS topic (and writing to a KMS-encrypted bucket) needs the GenerateDataKey family',
    },
    { finding: /^Action::s3:(GetObject|PutObject|DeleteObject|Abort|List)\*$/, reason: 'CDK grant action families scoped to the prefixes above' },
  ];
}

/** Turns a CloudFormation value into cdk-nag's flat string (Ref/GetAtt as <…>). */
export function flattenCfn(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const o = node as Record<string, unknown>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map(flattenCfn).join(delimiter);
  }
  if (o['Fn::Sub']) return flattenCfn(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenCfn(resource)}.${flattenCfn(attribute)}>`;
  }
  if (o['Fn::ImportValue']) return flattenCfn(o['Fn::ImportValue']);
  if (o.Ref) return `<${flattenCfn(o.Ref)}>`;
  return JSON.stringify(node);
}

/** The wildcard findings of a policy document, named as cdk-nag names them. */
export function wildcardFindings(document: { Statement?: { Effect?: string; Action?: unknown; Resource?: unknown }[] }): string[] {
  const found = new Set<string>();
  for (const s of document.Statement ?? []) {
    if (s.Effect !== 'Allow') continue;
    for (const a of ([] as unknown[]).concat(s.Action ?? [])) if (typeof a === 'string' && a.includes('*')) found.add(`Action::${a}`);
    for (const r of ([] as unknown[]).concat(s.Resource ?? [])) {
      const flat = flattenCfn(r);
      if (flat.includes('*')) found.add(`Resource::${flat}`);
    }
  }
  return [...found];
}

/** Acknowledges, on each IAM policy under a construct, the wildcards whose reason is known. */
export class AcknowledgeKnownWildcards implements IAspect {
  private readonly reasons: readonly WildcardReason[];
  constructor(names: GrantedNames) {
    this.reasons = wildcardReasons(names);
  }

  visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const document = Stack.of(node).resolve(node.policyDocument) as Parameters<typeof wildcardFindings>[0];
    for (const finding of wildcardFindings(document)) {
      const known = this.reasons.find((w) => w.finding.test(finding));
      if (known) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: known.reason });
    }
  }
}

/** Acknowledges rules on one resource, each with its reason. */
export function acknowledge(scope: IConstruct | CfnResource, rules: Readonly<Record<string, string>>): void {
  for (const [id, reason] of Object.entries(rules)) Validations.of(scope).acknowledge({ id, reason });
}
