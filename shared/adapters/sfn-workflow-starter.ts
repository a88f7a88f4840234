import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '../ports/workflow-starter.ts';

/** An execution's name: the date and trigger first, so the console lists runs by date (unique by time). */
export function executionNameFor(input: { snapshotDate: string; trigger: string }, now = new Date()): string {
  return `${input.snapshotDate}-${input.trigger}-${now.getTime().toString(36)}`.slice(0, 80);
}

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
