import { createAwsDeps } from '../../shared/adapters/aws-deps.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { scoreShard } from '../../shared/use-cases/score-shard.ts';
import { ShardSpecSchema } from '../../shared/use-cases/workflow-types.ts';

const deps = createAwsDeps(loadConfig());

/** Step 2 (one per shard, in the Distributed Map): validate and score one shard, write its partial. */
export const handler = withObservability(async (event: unknown) =>
  scoreShard(parseEvent(ShardSpecSchema, event, 'shard'), deps),
);
