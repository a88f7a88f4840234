import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { WorkflowStarter } from '../ports/workflow-starter.ts';
import type { OnDemandRequest } from '../use-cases/workflow-types.ts';

/** How long a plain start of a date returns the first execution instead of starting another. */
export const ON_DEMAND_WINDOW_SECONDS = 3600;

/** What an on-demand start answers: the execution it started, or the one it found. */
export interface OnDemandStart {
  executionId: string;
  startedAt: string;
}

/**
 * On-demand starts of the audit workflow (the start-audit function). A plain start of a date
 * (`{"snapshotDate"}`) is idempotent for ON_DEMAND_WINDOW_SECONDS through Powertools Idempotency:
 * an accidental double start (a retried invocation, a second click) returns the first execution.
 * A re-run a person asks for (`"rerun": true`, what the failure notice's command sends) always
 * starts a new execution (trigger `rerun`): the window never swallows it. The date's lease still
 * keeps two runs of one date from auditing at once.
 */
export function onDemandStarter(
  starter: WorkflowStarter,
  persistenceStore: BasePersistenceLayer,
  windowSeconds: number = ON_DEMAND_WINDOW_SECONDS,
): { start(request: OnDemandRequest, context?: Context): Promise<OnDemandStart> } {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'snapshotDate',
    expiresAfterSeconds: windowSeconds,
  });
  const once = makeIdempotent(
    async (request: { snapshotDate: string }) =>
      starter.start({ snapshotDate: request.snapshotDate, trigger: 'on-demand' }),
    { persistenceStore, config },
  );
  return {
    start: async (request, context) => {
      if (request.rerun === true)
        return starter.start({ snapshotDate: request.snapshotDate, trigger: 'rerun' });
      if (context !== undefined) config.registerLambdaContext(context);
      return once({ snapshotDate: request.snapshotDate });
    },
  };
}
