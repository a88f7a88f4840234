/**
 * vitest globalSetup of the unit project: synthesizes the stack's state machine definition once
 * (10-20 s here, then kept in the temp folder), which `risk-audit score` runs, so that no single
 * test pays for it.
 */
import { localWorkflowDefinition } from '../../shared/cli/workflow-definition.ts';

export async function setup(): Promise<void> {
  await localWorkflowDefinition();
}
