import type { Template } from 'aws-cdk-lib/assertions';
import { flattenCfn } from '../../lib/cdk/acknowledgements';

/** One allowed action on one resource, as flat strings (Ref/GetAtt as <LogicalId.Attr>), with its conditions. */
export interface Grant {
  readonly action: string;
  readonly resource: string;
  readonly condition?: unknown;
}

/** Every grant of every policy attached to the role whose logical id starts with `rolePrefix`. */
export function grantsOf(template: Template, rolePrefix: string): Grant[] {
  const roles = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(rolePrefix));
  if (roles.length !== 1) throw new Error(`expected one role starting with ${rolePrefix}, found ${roles.join(', ') || 'none'}`);
  const [role] = roles;
  const grants: Grant[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const attached = (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role);
    if (!attached) continue;
    for (const s of policy.Properties.PolicyDocument.Statement) {
      if (s.Effect !== 'Allow') continue;
      for (const action of ([] as string[]).concat(s.Action)) {
        for (const resource of ([] as unknown[]).concat(s.Resource))
          grants.push({ action, resource: flattenCfn(resource), ...(s.Condition ? { condition: s.Condition } : {}) });
      }
    }
  }
  return grants;
}

/** `action resource` lines for the grants whose action starts with one of the prefixes, sorted. */
export function lines(grants: readonly Grant[], ...actionPrefixes: string[]): string[] {
  return grants
    .filter((g) => actionPrefixes.some((p) => g.action.startsWith(p)))
    .map((g) => `${g.action} ${g.resource}`)
    .sort();
}

export function services(grants: readonly Grant[]): string[] {
  return [...new Set(grants.map((g) => g.action.split(':')[0]))].sort();
}
