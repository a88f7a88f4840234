import { createAwsDeps } from '../../shared/adapters/aws-deps.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { loadConfig } from '../../shared/config.ts';
import { mergeScoreBucket } from '../../shared/use-cases/merge-scores.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { BucketSpecSchema } from '../../shared/use-cases/workflow-types.ts';

const deps = createAwsDeps(loadConfig());

/** Step 4 (one per loan-id bucket, in the second Distributed Map): merge its score files, store what changed. */
export const handler = withObservability(async (event: unknown) =>
  mergeScoreBucket(parseEvent(BucketSpecSchema, event, 'bucket'), deps),
);
