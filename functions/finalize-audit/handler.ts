import { createAwsDeps } from '../../shared/adapters/aws-deps.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { loadConfig } from '../../shared/config.ts';
import { finalizeRun } from '../../shared/use-cases/finalize-run.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { FinalizeEventSchema } from '../../shared/use-cases/workflow-types.ts';

const deps = createAwsDeps(loadConfig());

/** Step 5: combine the buckets with the audit, write audit.json, the watchlist and the run record, release the lease. */
export const handler = withObservability(async (event: unknown) =>
  finalizeRun(parseEvent(FinalizeEventSchema, event, 'finalize event'), deps),
);
