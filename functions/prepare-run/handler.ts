import { createAwsDeps } from '../../shared/adapters/aws-deps.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { prepareRun } from '../../shared/use-cases/prepare-run.ts';
import { PrepareEventSchema } from '../../shared/use-cases/workflow-types.ts';

const deps = createAwsDeps(loadConfig());

/** Step 1: resolve the date's tape, take the date's lease, plan the shards. */
export const handler = withObservability(async (event: unknown) =>
  prepareRun(parseEvent(PrepareEventSchema, event, 'prepare event'), deps),
);
