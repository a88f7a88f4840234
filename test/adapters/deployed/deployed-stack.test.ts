import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  executionStatus,
  InvokeError,
  readStackOutputs,
  startAudit,
} from '../../../shared/adapters/deployed-stack.ts';
import { followExecution } from '../../../shared/cli/commands/invoke.ts';
import { ConfigError } from '../../../shared/errors.ts';

const cfn = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const encode = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));

afterEach(() => {
  cfn.reset();
  lambda.reset();
  sfn.reset();
});

describe('Function: readStackOutputs', () => {
  it('reads the state machine and start function from the stack outputs', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'RiskAudit' }).resolves({
      Stacks: [
        {
          StackName: 'RiskAudit',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'StateMachineArn', OutputValue: 'arn:aws:states:ap-southeast-1:1:stateMachine:x' },
            { OutputKey: 'StartAuditFunctionName', OutputValue: 'RiskAudit-StartAudit' },
            { OutputKey: 'TableName', OutputValue: 'RiskAudit-RiskTable' },
          ],
        },
      ],
    });
    const out = await readStackOutputs(new CloudFormationClient({ region: 'ap-southeast-1' }), 'RiskAudit');
    expect(out).toEqual({
      stateMachineArn: 'arn:aws:states:ap-southeast-1:1:stateMachine:x',
      startAuditFunctionName: 'RiskAudit-StartAudit',
      tableName: 'RiskAudit-RiskTable',
      bucketName: null,
    });
  });

  it('says which stack cannot be read when it does not exist', async () => {
    cfn.on(DescribeStacksCommand).rejects(new Error('Stack with id Nope does not exist'));
    await expect(
      readStackOutputs(new CloudFormationClient({ region: 'ap-southeast-1' }), 'Nope'),
    ).rejects.toThrow(new ConfigError('stack Nope cannot be read: Stack with id Nope does not exist'));
  });
});

describe('Function: startAudit', () => {
  it('sends exactly {"snapshotDate"} and returns the execution', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: encode({ executionId: 'arn:exec:1', startedAt: '2026-11-26T00:00:00.000Z' }) as never,
    });
    const out = await startAudit(new LambdaClient({ region: 'ap-southeast-1' }), 'fn', '2026-11-25');
    expect(out).toEqual({ executionId: 'arn:exec:1', startedAt: '2026-11-26T00:00:00.000Z' });
    const sent = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(sent.FunctionName).toBe('fn');
    expect(JSON.parse(new TextDecoder().decode(sent.Payload as Uint8Array))).toEqual({
      snapshotDate: '2026-11-25',
    });
  });

  it("turns the function's refusal into one sentence", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: encode({
        errorType: 'InvalidEventError',
        errorMessage: 'invalid request: snapshotDate: not a real calendar date',
      }) as never,
    });
    await expect(
      startAudit(new LambdaClient({ region: 'ap-southeast-1' }), 'fn', '2026-02-30'),
    ).rejects.toThrow(
      new InvokeError(
        'the audit of 2026-02-30 could not start: invalid request: snapshotDate: not a real calendar date',
      ),
    );
  });
});

describe('Function: executionStatus and followExecution', () => {
  it('prints each step once and returns the final failure with its sentence', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING', executionArn: 'e', stateMachineArn: 's', startDate: new Date() })
      .resolvesOnce({ status: 'RUNNING', executionArn: 'e', stateMachineArn: 's', startDate: new Date() })
      .resolves({
        status: 'FAILED',
        executionArn: 'e',
        stateMachineArn: 's',
        startDate: new Date(),
        error: 'TapeMissingError',
        cause: JSON.stringify({ errorMessage: 'no tape has landed for 2026-11-25' }),
      });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({
        events: [
          {
            id: 3,
            type: 'TaskStateEntered',
            timestamp: new Date(),
            stateEnteredEventDetails: { name: 'Prepare' },
          },
        ],
      })
      .resolves({
        events: [
          {
            id: 5,
            type: 'TaskStateEntered',
            timestamp: new Date(),
            stateEnteredEventDetails: { name: 'NotifyFailure' },
          },
        ],
      });
    const client = new SFNClient({ region: 'ap-southeast-1' });
    const lines: string[] = [];
    const final = await followExecution(() => executionStatus(client, 'e'), {
      pollMs: 1,
      print: (l) => lines.push(l),
      sleep: async () => undefined,
    });
    expect(lines).toEqual(['  Prepare...', '  NotifyFailure...']);
    expect(final).toEqual({
      status: 'FAILED',
      step: null,
      error: 'TapeMissingError: no tape has landed for 2026-11-25',
    });
  });
});
