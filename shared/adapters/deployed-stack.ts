import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ConfigError, RiskAuditError } from '../errors.ts';

/** The outputs of a deployed risk-audit stack that the CLI needs. */
export interface StackOutputs {
  stateMachineArn: string;
  startAuditFunctionName: string;
  tableName: string | null;
  bucketName: string | null;
}

/** The status of one execution, with the last step entered. */
export interface ExecutionStatus {
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  step: string | null;
  error: string | null;
}

/** The on-demand start failed (refused input, or the function errored). */
export class InvokeError extends RiskAuditError {}

/** Reads a deployed stack's outputs (BucketName, TableName, StateMachineArn, StartAuditFunctionName). */
export async function readStackOutputs(
  client: CloudFormationClient,
  stackName: string,
): Promise<StackOutputs> {
  let outputs: Record<string, string>;
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries(
      (out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
  } catch (error) {
    throw new ConfigError(
      `stack ${stackName} cannot be read: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      { cause: error },
    );
  }
  const stateMachineArn = outputs.StateMachineArn;
  const startAuditFunctionName = outputs.StartAuditFunctionName;
  if (!stateMachineArn || !startAuditFunctionName) {
    throw new ConfigError(`stack ${stackName} has no StateMachineArn and StartAuditFunctionName outputs`);
  }
  return {
    stateMachineArn,
    startAuditFunctionName,
    tableName: outputs.TableName ?? null,
    bucketName: outputs.BucketName ?? null,
  };
}

/**
 * Calls the start-audit function and returns the execution it started or found: a plain start is
 * idempotent per date for an hour, a re-run (`rerun`) always starts a new execution.
 */
export async function startAudit(
  client: LambdaClient,
  functionName: string,
  snapshotDate: string,
  options: { rerun?: boolean } = {},
): Promise<{ executionId: string; startedAt: string }> {
  const out = await client.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(
        JSON.stringify({ snapshotDate, ...(options.rerun === true ? { rerun: true } : {}) }),
      ),
    }),
  );
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (out.FunctionError) {
    const message = typeof body.errorMessage === 'string' ? body.errorMessage : out.FunctionError;
    throw new InvokeError(`the audit of ${snapshotDate} could not start: ${message}`);
  }
  if (typeof body.executionId !== 'string')
    throw new InvokeError(`start-audit answered without an execution id`);
  return { executionId: body.executionId, startedAt: String(body.startedAt ?? '') };
}

/** The execution's status and, while it runs, the step it is in. */
export async function executionStatus(client: SFNClient, executionArn: string): Promise<ExecutionStatus> {
  const d = await client.send(new DescribeExecutionCommand({ executionArn }));
  let step: string | null = null;
  if (d.status === 'RUNNING') {
    const h = await client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 20 }),
    );
    step = h.events?.find((e) => e.stateEnteredEventDetails?.name)?.stateEnteredEventDetails?.name ?? null;
  }
  return {
    status: (d.status ?? 'RUNNING') as ExecutionStatus['status'],
    step,
    error: d.error ? `${d.error}${d.cause ? `: ${extractMessage(d.cause)}` : ''}` : null,
  };
}

function extractMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

/** Clients for the deployed stack, in the region given or the default chain's. */
export function deployedClients(region?: string): {
  cfn: CloudFormationClient;
  lambda: LambdaClient;
  sfn: SFNClient;
} {
  const config = region ? { region } : {};
  return {
    cfn: new CloudFormationClient(config),
    lambda: new LambdaClient(config),
    sfn: new SFNClient(config),
  };
}
