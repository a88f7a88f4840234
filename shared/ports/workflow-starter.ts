/** Starts the audit workflow for a date (Step Functions on AWS, the in-process runner locally). */
export interface WorkflowStarter {
  start(input: {
    snapshotDate: string;
    trigger: string;
  }): Promise<{ executionId: string; startedAt: string }>;
}
