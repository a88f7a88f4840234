import { createAwsDeps } from '../../shared/adapters/aws-deps.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { loadConfig } from '../../shared/config.ts';
import { mergeAudit } from '../../shared/use-cases/merge-audit.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { MergeEventSchema } from '../../shared/use-cases/workflow-types.ts';

const deps = createAwsDeps(loadConfig());

/** Step 3: merge the shards' partials into the audit's figures and plan the loan-id buckets. */
export const handler = withObservability(async (event: unknown) =>
  mergeAudit(parseEvent(MergeEventSchema, event, 'merge event'), deps),
);
