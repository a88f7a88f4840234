import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { PROJECT_ROOT } from './constructs/audit-function.ts';
import { RiskAuditStack } from './risk-audit-stack.ts';
import { settingsFromContext } from './settings.ts';

/** The audit state machine's definition (Amazon States Language, as a parsed object). */
export type WorkflowDefinition = { StartAt: string; States: Record<string, Record<string, unknown>> };

/** What local runs name the deployed resources the definition refers to. */
export interface LocalNames {
  /** A function's ARN from its folder name (`prepare-run`, `score-shard`, ...). */
  functionArn: (folder: string) => string;
  /** The data bucket's name (where the maps read their items and export their results). */
  dataBucket: string;
}

/**
 * The state machine definition `cdk synth` produces for the stack (cdk.json's context, the
 * functions not bundled), with each function's ARN token rendered by `functionArn` from the
 * function's folder name, the data bucket's by `dataBucket` and the partition as `aws`. This is
 * how local runs get the very definition AWS executes, with local resource names in place of the
 * deployed ones.
 */
export function synthesizedWorkflow(names: LocalNames): WorkflowDefinition {
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
    const bucketId = stack.getLogicalId(stack.data.bucket.node.defaultChild as CfnElement);
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, { Properties: { DefinitionString: unknown } }>;
    };
    const body = template.Resources[machineId]?.Properties.DefinitionString;
    const refs = new Map([
      [bucketId, names.dataBucket],
      ['AWS::Partition', 'aws'],
    ]);
    return JSON.parse(renderTokens(body, byLogicalId, refs, names.functionArn)) as WorkflowDefinition;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * A DefinitionString (a string, or an Fn::Join of strings, function ARN tokens and references to
 * the bucket or the partition) as plain text.
 */
function renderTokens(
  body: unknown,
  functions: ReadonlyMap<string, string>,
  refs: ReadonlyMap<string, string>,
  functionArn: (folder: string) => string,
): string {
  if (typeof body === 'string') return body;
  const join = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join === undefined) throw new Error(`unexpected state machine definition: ${JSON.stringify(body)}`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      const named = ref === undefined ? undefined : refs.get(ref);
      if (named !== undefined) return named;
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
