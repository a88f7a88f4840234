import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '../ports/workflow-starter.ts';
import { executionNameFor } from '../use-cases/workflow-types.ts';

/** Starts the audit state machine; execution names carry the date so the console lists runs by date. */
export class SfnWorkflowStarter implements WorkflowStarter {
  public constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  public async start(input: {
    snapshotDate: string;
    trigger: string;
  }): Promise<{ executionId: string; startedAt: string }> {
    const name = executionNameFor(input);
    const out = await this.client.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name,
        input: JSON.stringify(input),
      }),
    );
    return {
      executionId: out.executionArn ?? name,
      startedAt: (out.startDate ?? new Date()).toISOString(),
    };
  }
}
