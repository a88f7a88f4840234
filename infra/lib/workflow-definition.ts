import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { PROJECT_ROOT } from './constructs/audit-function.ts';
import { RiskAuditStack } from './risk-audit-stack.ts';
import { settingsFromContext } from './settings.ts';

/** The audit state machine's definition (Amazon States Language, as a parsed object). */
export type WorkflowDefinition = { StartAt: string; States: Record<string, Record<string, unknown>> };

/**
 * The state machine definition `cdk synth` produces for the stack (cdk.json's context, the
 * functions not bundled), with each function's ARN token rendered by `functionArn` from the
 * function's folder name (`prepare-run`, `score-shard`, ...). This is how local runs get the
 * very definition AWS executes, with local resource names in place of the deployed ones.
 */
export function synthesizedWorkflow(functionArn: (folder: string) => string): WorkflowDefinition {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const outdir = mkdtempSync(join(tmpdir(), 'risk-audit-synth-'));
  try {
    const app = new App({ outdir, context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
    const stack = new RiskAuditStack(app, 'RiskAudit', {
      env: { account: '000000000000', region: 'ap-southeast-1' },
      ...settingsFromContext((key) => cdkJson.context[key]),
    });
    const byLogicalId = new Map<string, string>();
    for (const [folder, fn] of Object.entries(stack.functions))
      byLogicalId.set(stack.getLogicalId(fn.function.node.defaultChild as CfnElement), folder);
    const machineId = stack.getLogicalId(stack.workflow.stateMachine.node.defaultChild as CfnElement);
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, { Properties: { DefinitionString: unknown } }>;
    };
    const body = template.Resources[machineId]?.Properties.DefinitionString;
    return JSON.parse(renderTokens(body, byLogicalId, functionArn)) as WorkflowDefinition;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A DefinitionString (a string, or an Fn::Join of strings and function ARN tokens) as plain text. */
function renderTokens(
  body: unknown,
  functions: ReadonlyMap<string, string>,
  functionArn: (folder: string) => string,
): string {
  if (typeof body === 'string') return body;
  const join = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join === undefined) throw new Error(`unexpected state machine definition: ${JSON.stringify(body)}`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const att = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      const folder = att?.[1] === 'Arn' ? functions.get(att[0]) : undefined;
      if (folder === undefined)
        throw new Error(
          `the state machine definition refers to something local runs cannot name: ${JSON.stringify(part)}`,
        );
      return functionArn(folder);
    })
    .join(join[0]);
}
