import { Template } from 'aws-cdk-lib/assertions';
import type { Stack } from 'aws-cdk-lib';

/**
 * The state machine's definition as deployed, taken from the synthesized template, with the
 * CloudFormation references it joins in replaced by fixed ARNs/names: function ARNs end in their
 * logical id, so a test can tell which function a state calls.
 */
export function deployedDefinition(stack: Stack): Record<string, any> {
  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines);
  return JSON.parse(resolveCfn(machine.Properties.DefinitionString));
}

/** A DefinitionString's Fn::Join with each reference as a syntactically valid ARN or name. */
export function resolveCfn(node: unknown): string {
  if (typeof node === 'string') return node;
  const o = node as Record<string, any>;
  if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(resolveCfn).join(o['Fn::Join'][0]);
  if (o['Fn::GetAtt']) return `arn:aws:lambda:eu-west-1:123456789012:function:${o['Fn::GetAtt'][0]}`;
  if (o.Ref === 'AWS::Partition') return 'aws';
  if (o.Ref === 'AWS::Region') return 'eu-west-1';
  if (o.Ref === 'AWS::AccountId') return '123456789012';
  if (o.Ref) return /Topic/.test(o.Ref) ? `arn:aws:sns:eu-west-1:123456789012:${o.Ref}` : String(o.Ref);
  throw new Error(`cannot resolve ${JSON.stringify(node)} in the state machine definition`);
}

/** Every state of a definition, nested Map processors included, by name. */
export function allStates(definition: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  const walk = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states)) {
      out[name] = state;
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) walk(inner.States);
    }
  };
  walk(definition.States);
  return out;
}
