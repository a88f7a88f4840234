import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backoffDelay, batchWriteAll, type WriteRequest } from '../../shared/adapters/batch-write.ts';
import { StoreError } from '../../shared/errors.ts';

const TABLE = 'risk-audit';
const ddbMock = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
);
const noSleep = async (): Promise<void> => {};

function puts(n: number): WriteRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    PutRequest: { Item: { pk: `LOAN#${i}`, sk: 'DAY#2026-01-01' } },
  }));
}

function throttled(): ProvisionedThroughputExceededException {
  return new ProvisionedThroughputExceededException({
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });
}

function requestsOf(input: BatchWriteCommandInput): WriteRequest[] {
  return (input.RequestItems?.[TABLE] ?? []) as WriteRequest[];
}

beforeEach(() => ddbMock.reset());
afterEach(() => ddbMock.reset());

describe('Function: backoffDelay', () => {
  it('draws a full-jitter wait below base * 2^attempt', () => {
    expect(backoffDelay(3, 50, 5_000, () => 0.5)).toBe(200);
    expect(backoffDelay(0, 50, 5_000, () => 0.999)).toBe(49);
    expect(backoffDelay(0, 50, 5_000, () => 0)).toBe(0);
  });

  it('never waits longer than the cap', () => {
    expect(backoffDelay(10, 50, 5_000, () => 0.5)).toBe(2_500);
    expect(backoffDelay(30, 50, 5_000, () => 0.999)).toBe(4_995);
  });
});

describe('Function: batchWriteAll', () => {
  it('sends the unprocessed items again until none is left', async () => {
    // Prepare: the fake table accepts only the first 10 requests of each call.
    const stored = new Set<string>();
    ddbMock.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      const requests = requestsOf(input);
      for (const r of requests.slice(0, 10)) {
        if ('PutRequest' in r) stored.add(String(r.PutRequest.Item.pk));
      }
      const left = requests.slice(10);
      return { UnprocessedItems: left.length > 0 ? { [TABLE]: left } : {} };
    });
    // Act
    const report = await batchWriteAll(doc, TABLE, puts(103), { sleep: noSleep, concurrency: 3 });
    // Assess: 103 = 4 chunks of 25 + 3; a chunk of 25 takes 3 calls (10, 10, 5), the chunk of 3 one.
    expect(stored.size).toBe(103);
    expect(report).toEqual({ written: 103, calls: 13, retries: 8 });
  });

  it('does not call again for a throttled call: the client has retried it already', async () => {
    // Prepare: what the client throws once its own attempts are spent.
    ddbMock
      .on(BatchWriteCommand)
      .rejects(Object.assign(throttled(), { $metadata: { httpStatusCode: 400, attempts: 10 } }));
    // Act
    const write = batchWriteAll(doc, TABLE, puts(3), { sleep: noSleep });
    // Assess
    await expect(write).rejects.toThrow(
      new StoreError('could not write 3 items to table risk-audit after 10 attempts: Rate exceeded'),
    );
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(1);
  });

  it('sends chunks of at most 25 requests', async () => {
    ddbMock.on(BatchWriteCommand).resolves({ UnprocessedItems: {} });
    const report = await batchWriteAll(doc, TABLE, puts(60), { sleep: noSleep });
    const sizes = ddbMock.commandCalls(BatchWriteCommand).map((c) => requestsOf(c.args[0].input).length);
    expect(sizes.sort((a, b) => a - b)).toEqual([10, 25, 25]);
    expect(report).toEqual({ written: 60, calls: 3, retries: 0 });
  });

  it('gives up with a StoreError after maxAttempts calls when items stay unprocessed', async () => {
    // Prepare
    ddbMock.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => ({
      UnprocessedItems: { [TABLE]: requestsOf(input) },
    }));
    const waits: number[] = [];
    // Act
    const write = batchWriteAll(doc, TABLE, puts(5), {
      maxAttempts: 4,
      random: () => 1,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    // Assess
    await expect(write).rejects.toThrow(StoreError);
    await expect(write).rejects.toThrow(
      'could not write 5 items to table risk-audit after 4 attempts (5 unprocessed items)',
    );
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(4);
    expect(waits).toEqual([50, 100, 200]);
  });

  it('fails at once on an error that retrying cannot fix', async () => {
    ddbMock
      .on(BatchWriteCommand)
      .rejects(
        Object.assign(new Error('Item size has exceeded the maximum'), { name: 'ValidationException' }),
      );
    await expect(batchWriteAll(doc, TABLE, puts(3), { sleep: noSleep })).rejects.toThrow(
      'could not write 3 items to table risk-audit: Item size has exceeded the maximum',
    );
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(1);
  });

  it('makes no call for no requests', async () => {
    const report = await batchWriteAll(doc, TABLE, [], { sleep: noSleep });
    expect(report).toEqual({ written: 0, calls: 0, retries: 0 });
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });
});
