import { createAwsDeps } from '../../shared/adapters/aws-deps.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { loadConfig } from '../../shared/config.ts';
import { finalizeRun } from '../../shared/use-cases/finalize-run.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { FinalizeEventSchema } from '../../shared/use-cases/workflow-types.ts';

const deps = createAwsDeps(loadConfig());

/** Step 3: merge the shards' partials into audit.json, store results and history, release the lease. */
export const handler = withObservability(async (event: unknown) =>
  finalizeRun(parseEvent(FinalizeEventSchema, event, 'finalize event'), deps),
);
