import type { Template } from 'aws-cdk-lib/assertions';

/** A CloudFormation resource as found in a synthesized template. */
export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

/** An IAM policy statement as synthesized. */
export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

/** Every resource of the template by logical id. */
export function resources(template: Template): Record<string, CfnResource> {
  return (template.toJSON() as { Resources: Record<string, CfnResource> }).Resources;
}

/** Logical ids of the resources of one type. */
export function logicalIdsOf(template: Template, type: string): string[] {
  return Object.entries(resources(template))
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
}

/** The state machine's definition as an object; CloudFormation tokens become the string "TOKEN". */
export function stateMachineDefinition(template: Template): Record<string, unknown> {
  const [id] = logicalIdsOf(template, 'AWS::StepFunctions::StateMachine');
  if (id === undefined) throw new Error('the template has no state machine');
  const body = resources(template)[id]?.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return JSON.parse(text) as Record<string, unknown>;
}

/** Every state of a definition, descending into Map item processors, by name. */
export function allStates(definition: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const walk = (states: Record<string, Record<string, unknown>>): void => {
    for (const [name, state] of Object.entries(states)) {
      out[name] = state;
      const processor = state.ItemProcessor as
        | { States?: Record<string, Record<string, unknown>> }
        | undefined;
      if (processor?.States !== undefined) walk(processor.States);
    }
  };
  walk(definition.States as Record<string, Record<string, unknown>>);
  return out;
}

/** Every statement of every AWS::IAM::Policy, with the logical id of its policy. */
export function policyStatements(template: Template): { policy: string; statement: PolicyStatement }[] {
  const out: { policy: string; statement: PolicyStatement }[] = [];
  for (const [id, r] of Object.entries(resources(template))) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const doc = r.Properties.PolicyDocument as { Statement: PolicyStatement[] };
    for (const statement of doc.Statement) out.push({ policy: id, statement });
  }
  return out;
}

/** Actions of a statement as an array. */
export function actionsOf(statement: PolicyStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Whether a statement's resources reference (Ref or GetAtt, possibly inside a Join) a logical id. */
export function referencesLogicalId(statement: PolicyStatement, logicalId: string): boolean {
  const text = JSON.stringify(statement.Resource);
  return text.includes(`"Ref":"${logicalId}"`) || text.includes(`"Fn::GetAtt":["${logicalId}"`);
}

/** Statements of the policy attached to the role whose logical id starts with the given prefix. */
export function statementsOfRole(template: Template, rolePrefix: string): PolicyStatement[] {
  const all = resources(template);
  return Object.values(all)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties.Roles).includes(`"Ref":"${rolePrefix}`))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement);
}
