import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { withObservability } from '../../shared/adapters/observability.ts';
import { SfnWorkflowStarter } from '../../shared/adapters/sfn-workflow-starter.ts';
import { loadConfig } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { OnDemandRequestSchema } from '../../shared/use-cases/workflow-types.ts';

const config = loadConfig();
if (!config.STATE_MACHINE_ARN || !config.IDEMPOTENCY_TABLE_NAME) {
  throw new ConfigError('start-audit needs STATE_MACHINE_ARN and IDEMPOTENCY_TABLE_NAME');
}
const starter = new SfnWorkflowStarter(new SFNClient({}), config.STATE_MACHINE_ARN);
const persistenceStore = new DynamoDBPersistenceLayer({ tableName: config.IDEMPOTENCY_TABLE_NAME });
// A repeated request for the same date within the hour returns the first execution instead of a second run.
const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'snapshotDate',
  expiresAfterSeconds: 3600,
});

const start = makeIdempotent(
  async (request: { snapshotDate: string }) =>
    starter.start({ snapshotDate: request.snapshotDate, trigger: 'on-demand' }),
  { persistenceStore, config: idempotencyConfig },
);

/** On-demand entry: `{"snapshotDate": "YYYY-MM-DD"}` starts the audit workflow for that date, once. */
export const handler = withObservability(async (event: unknown, context: Context) => {
  idempotencyConfig.registerLambdaContext(context);
  const request = parseEvent(
    OnDemandRequestSchema,
    event,
    'request (expected {"snapshotDate": "YYYY-MM-DD"})',
  );
  return start(request);
});
