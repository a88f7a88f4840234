import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { withObservability } from '../../shared/adapters/observability.ts';
import { onDemandStarter } from '../../shared/adapters/on-demand-start.ts';
import { SfnWorkflowStarter } from '../../shared/adapters/sfn-workflow-starter.ts';
import { loadConfig } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { OnDemandRequestSchema } from '../../shared/use-cases/workflow-types.ts';

const config = loadConfig();
if (!config.STATE_MACHINE_ARN || !config.IDEMPOTENCY_TABLE_NAME) {
  throw new ConfigError('start-audit needs STATE_MACHINE_ARN and IDEMPOTENCY_TABLE_NAME');
}
// A repeated plain request for the same date within the hour returns the first execution; a
// re-run ({"rerun": true}) always starts one.
const starter = onDemandStarter(
  new SfnWorkflowStarter(new SFNClient({}), config.STATE_MACHINE_ARN),
  new DynamoDBPersistenceLayer({ tableName: config.IDEMPOTENCY_TABLE_NAME }),
);

/** On-demand entry: `{"snapshotDate": "YYYY-MM-DD"}` starts the audit of that date once; `"rerun": true` again. */
export const handler = withObservability(async (event: unknown, context: Context) =>
  starter.start(
    parseEvent(
      OnDemandRequestSchema,
      event,
      'request (expected {"snapshotDate": "YYYY-MM-DD"}, optionally with "rerun": true)',
    ),
    context,
  ),
);
