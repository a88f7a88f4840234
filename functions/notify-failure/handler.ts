import { createAwsDeps } from '../../shared/adapters/aws-deps.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { recordFailure } from '../../shared/use-cases/record-failure.ts';
import { FailureEventSchema } from '../../shared/use-cases/workflow-types.ts';

const deps = createAwsDeps(loadConfig());

/** Catch step: record the failed run, send the failure notice, release the lease. */
export const handler = withObservability(async (event: unknown) =>
  recordFailure(parseEvent(FailureEventSchema, event, 'failure event'), deps),
);
