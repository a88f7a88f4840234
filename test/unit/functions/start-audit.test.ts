import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../../shared/cli/lambda-context.ts';

const STATE_MACHINE = 'arn:aws:states:cn-north-1:123456789012:stateMachine:risk-audit';
const sfn = mockClient(SFNClient);
const dynamo = mockClient(DynamoDBClient);

/**
 * DynamoDB's documented semantics for the idempotency table, as far as the start uses them: a
 * conditional PutItem on an id that holds an unexpired record fails with
 * ConditionalCheckFailedException carrying the old item (ReturnValuesOnConditionCheckFailure
 * ALL_OLD); UpdateItem SETs the given attributes.
 */
function idempotencyTable(): Map<string, Record<string, unknown>> {
  const items = new Map<string, Record<string, unknown>>();
  dynamo.on(PutItemCommand).callsFake((input) => {
    const item = unmarshall(input.Item);
    const old = items.get(item.id as string);
    if (old !== undefined && (old.expiration as number) > Date.now() / 1000) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: marshall(old),
      });
    }
    items.set(item.id as string, item);
    return {};
  });
  dynamo.on(UpdateItemCommand).callsFake((input) => {
    const id = unmarshall(input.Key).id as string;
    const values = unmarshall(input.ExpressionAttributeValues);
    const names = input.ExpressionAttributeNames as Record<string, string>;
    const item = items.get(id) ?? { id };
    for (const assignment of (input.UpdateExpression as string).replace(/^SET /, '').split(', ')) {
      const [name, value] = assignment.split(' = ') as [string, string];
      item[names[name]!] = values[value];
    }
    items.set(id, item);
    return {};
  });
  return items;
}

async function loadHandler() {
  vi.resetModules();
  return (await import('../../../functions/start-audit/handler.ts')).handler;
}

describe('Function: start-audit', () => {
  beforeEach(() => {
    sfn.reset();
    dynamo.reset();
    vi.stubEnv('BUCKET_NAME', 'risk-audit-data');
    vi.stubEnv('TABLE_NAME', 'risk-audit');
    vi.stubEnv('STATE_MACHINE_ARN', STATE_MACHINE);
    vi.stubEnv('IDEMPOTENCY_TABLE_NAME', 'risk-audit-idempotency');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    vi.stubEnv('AWS_REGION', 'cn-north-1');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('starts the workflow for the date asked, once within the window', async () => {
    // Prepare
    idempotencyTable();
    sfn.on(StartExecutionCommand).resolvesOnce({
      executionArn: `${STATE_MACHINE.replace('stateMachine', 'execution')}:first`,
      startDate: new Date('2026-12-02T01:00:00Z'),
    });
    const handler = await loadHandler();

    // Act
    const first = await handler({ snapshotDate: '2026-12-01' }, lambdaContext('start-audit'));
    const again = await handler({ snapshotDate: '2026-12-01' }, lambdaContext('start-audit'));

    // Assess
    expect(first).toEqual({
      executionId: 'arn:aws:states:cn-north-1:123456789012:execution:risk-audit:first',
      startedAt: '2026-12-02T01:00:00.000Z',
    });
    expect(again).toEqual(first);
    const starts = sfn.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0]!.args[0].input.stateMachineArn).toBe(STATE_MACHINE);
    expect(JSON.parse(starts[0]!.args[0].input.input!)).toEqual({
      snapshotDate: '2026-12-01',
      trigger: 'on-demand',
    });
    expect(starts[0]!.args[0].input.name).toMatch(/^2026-12-01-on-demand-[0-9a-z]+$/);
  });

  it('starts a re-run every time it is asked, without the idempotency table', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:exec', startDate: new Date('2026-12-02T02:00:00Z') });
    const handler = await loadHandler();

    await handler({ snapshotDate: '2026-11-30', rerun: true }, lambdaContext('start-audit'));
    await handler({ snapshotDate: '2026-11-30', rerun: true }, lambdaContext('start-audit'));

    const inputs = sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!));
    expect(inputs).toEqual([
      { snapshotDate: '2026-11-30', trigger: 'rerun' },
      { snapshotDate: '2026-11-30', trigger: 'rerun' },
    ]);
    expect(dynamo.calls()).toHaveLength(0);
  });

  it('refuses a request that is not a date in one sentence, starting nothing', async () => {
    const handler = await loadHandler();

    await expect(handler({ snapshotDate: '2026-02-30' }, lambdaContext('start-audit'))).rejects.toThrow(
      /^invalid request \(expected \{"snapshotDate": "YYYY-MM-DD"\}, optionally with "rerun": true\): snapshotDate: /,
    );
    await expect(handler({ date: '2026-12-01' }, lambdaContext('start-audit'))).rejects.toThrow(/date/);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('fails at load, naming what is missing, without a state machine to start', async () => {
    vi.stubEnv('STATE_MACHINE_ARN', undefined);
    await expect(loadHandler()).rejects.toThrow(
      'start-audit needs STATE_MACHINE_ARN and IDEMPOTENCY_TABLE_NAME',
    );
  });
});
