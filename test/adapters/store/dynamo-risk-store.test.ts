import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { WriteRequest } from '../../../shared/adapters/batch-write.ts';
import { DynamoRiskStore } from '../../../shared/adapters/dynamo-risk-store.ts';
import { RunInProgressError, StoreError } from '../../../shared/errors.ts';
import type { LoanChange } from '../../../shared/ports/risk-store.ts';

const TABLE = 'risk-audit';
const ddbMock = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
);
const NOW = new Date('2026-03-01T00:00:00Z');
const store = new DynamoRiskStore(doc, TABLE, {
  now: () => NOW,
  batchWrite: { sleep: async () => {}, maxAttempts: 8 },
});

function change(loanId: string): LoanChange {
  return {
    loanId,
    change: 'new',
    borrowerRef: 'ref',
    grade: 'B',
    score: 700,
    pd: 0.02,
    dpdBucket: '0',
    classification: 'normal',
    stage: '1',
    flags: [],
    outstanding: 100,
    previousGrade: null,
    previousDpdBucket: null,
  };
}

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

beforeEach(() => ddbMock.reset());

describe('Class: DynamoRiskStore (mocked DynamoDB)', () => {
  it('takes the lease with a conditional put', async () => {
    ddbMock.on(PutCommand).resolves({});
    await store.acquireLease('2026-02-28', 'run-1', 900);
    const put = ddbMock.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe('attribute_not_exists(pk) OR leaseUntil < :now OR runId = :runId');
    // 2026-03-01T00:00:00Z = 1772323200
    expect(put?.ExpressionAttributeValues).toEqual({ ':now': 1_772_323_200, ':runId': 'run-1' });
    expect(put?.Item).toMatchObject({
      pk: 'RUN#2026-02-28',
      sk: 'LEASE',
      runId: 'run-1',
      leaseUntil: 1_772_324_100,
    });
  });

  it('throws RunInProgressError naming the holder when the condition fails', async () => {
    ddbMock.on(PutCommand).rejects(conditionFailed());
    ddbMock.on(GetCommand).resolves({ Item: { runId: 'run-0', leaseUntil: 1_772_323_800 } });
    await expect(store.acquireLease('2026-02-28', 'run-1', 900)).rejects.toThrow(
      new RunInProgressError(
        'the audit of 2026-02-28 is already running (run run-0, lease held until 2026-03-01T00:10:00.000Z); wait for it to finish or for its lease to expire',
      ),
    );
    // A lost race is not retried.
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(1);
  });

  it('treats releasing a lease held by another run as nothing to do', async () => {
    ddbMock.on(DeleteCommand).rejects(conditionFailed());
    await expect(store.releaseLease('2026-02-28', 'run-1')).resolves.toBeUndefined();
  });

  it('writes every history item although DynamoDB leaves items unprocessed', async () => {
    // Prepare: no earlier items; the fake table takes 7 requests per call. (Throttled calls are
    // the client's to retry: test/adapters/aws-clients.test.ts.)
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    const stored = new Map<string, Record<string, unknown>>();
    ddbMock.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      const requests = (input.RequestItems?.[TABLE] ?? []) as WriteRequest[];
      for (const r of requests.slice(0, 7)) {
        if ('PutRequest' in r)
          stored.set(`${r.PutRequest.Item.pk}|${r.PutRequest.Item.sk}`, r.PutRequest.Item);
      }
      const left = requests.slice(7);
      return { UnprocessedItems: left.length ? { [TABLE]: left } : {} };
    });
    const changes = Array.from({ length: 120 }, (_, i) => change(`L${i}`));
    // Act: two parts (loan-id buckets) of 60 loans, then the retire, as merge-scores and finalize do.
    const part0 = await store.writeLoanChanges('2026-02-28', 'run-1', 0, changes.slice(0, 60));
    const part1 = await store.writeLoanChanges('2026-02-28', 'run-1', 1, changes.slice(60));
    const retired = await store.retireLoanChanges('2026-02-28', 'run-1');
    // Assess
    // Each part: 60 history items plus one manifest chunk listing them; nothing earlier to retire.
    expect(part0).toEqual({ written: 60, deleted: 0, bookkeeping: 1 });
    expect(part1).toEqual({ written: 60, deleted: 0, bookkeeping: 1 });
    expect(retired).toEqual({ written: 0, deleted: 0, bookkeeping: 0 });
    expect([...stored.keys()].filter((k) => k.startsWith('LOAN#'))).toHaveLength(120);
    expect(stored.get('RUN#2026-02-28|CHG#run-1#0000#00000')?.loanIds).toHaveLength(60);
    expect(stored.get('RUN#2026-02-28|CHG#run-1#0001#00000')?.loanIds).toHaveLength(60);
    expect(stored.get('RUN#2026-02-28|CHG#run-1#0001#00000')?.loanIds).toContain('L60');
    expect(stored.get('LOAN#L7|DAY#2026-02-28')).toMatchObject({
      loanId: 'L7',
      snapshotDate: '2026-02-28',
      runId: 'run-1',
      type: 'change',
      // 1772323200 + 400 days * 86400
      expiresAt: 1_772_323_200 + 34_560_000,
    });
    // The date's earlier manifests were read once, strongly consistent.
    const queries = ddbMock.commandCalls(QueryCommand);
    expect(queries).toHaveLength(1);
    expect(queries[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('deletes the stale items of an earlier run of the date, then its manifest', async () => {
    // The date's manifests as the retire reads them back: run-1's, and the one run-2 just wrote.
    ddbMock.on(QueryCommand).resolves({
      Items: [
        { pk: 'RUN#2026-02-28', sk: 'CHG#run-1#00000', loanIds: ['L1', 'OLD'] },
        { pk: 'RUN#2026-02-28', sk: 'CHG#run-2#0000#00000', loanIds: ['L1'] },
      ],
    });
    ddbMock.on(BatchWriteCommand).resolves({ UnprocessedItems: {} });
    const written = await store.writeLoanChanges('2026-02-28', 'run-2', 0, [change('L1')]);
    const retired = await store.retireLoanChanges('2026-02-28', 'run-2');
    // The write puts L1 and its manifest; the retire deletes OLD (L1 is run-2's) and run-1's manifest.
    expect(written).toEqual({ written: 1, deleted: 0, bookkeeping: 1 });
    expect(retired).toEqual({ written: 0, deleted: 1, bookkeeping: 1 });
    const calls = ddbMock
      .commandCalls(BatchWriteCommand)
      .map((c) => (c.args[0].input.RequestItems?.[TABLE] ?? []) as WriteRequest[]);
    // Order matters: the new manifest first, then the items, then the stale items, then the old manifest.
    expect(calls).toHaveLength(4);
    expect(calls[0]).toMatchObject([
      { PutRequest: { Item: { pk: 'RUN#2026-02-28', sk: 'CHG#run-2#0000#00000', loanIds: ['L1'] } } },
    ]);
    expect(calls[1]?.filter((r) => 'PutRequest' in r)).toHaveLength(1);
    expect(calls[2]).toEqual([{ DeleteRequest: { Key: { pk: 'LOAN#OLD', sk: 'DAY#2026-02-28' } } }]);
    expect(calls[3]).toEqual([{ DeleteRequest: { Key: { pk: 'RUN#2026-02-28', sk: 'CHG#run-1#00000' } } }]);
  });

  it('gives a StoreError naming what could not be stored when items stay unprocessed', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    ddbMock.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => ({
      UnprocessedItems: { [TABLE]: input.RequestItems?.[TABLE] ?? [] },
    }));
    const write = store.writeLoanChanges('2026-02-28', 'run-1', 0, [change('L1')]);
    await expect(write).rejects.toThrow(StoreError);
    // The manifest chunk is the first batch: it never gets in, so the items are not sent.
    await expect(write).rejects.toThrow(
      'could not store the loan history of 2026-02-28: could not write 1 items to table risk-audit after 8 attempts (1 unprocessed items)',
    );
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(8);
  });

  it('does not send a throttled command again: the client retried it, the store names what failed', async () => {
    // Prepare: what the client throws once its own attempts are spent.
    ddbMock
      .on(GetCommand)
      .rejects(
        new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: { attempts: 10 } }),
      );
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    ddbMock
      .on(BatchWriteCommand)
      .rejects(
        new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: { attempts: 10 } }),
      );
    // Act
    const read = store.getRun('2026-02-28');
    const write = store.writeLoanChanges('2026-02-28', 'run-1', 0, [change('L1')]);
    // Assess
    await expect(read).rejects.toThrow(
      new StoreError('reading the run of 2026-02-28 failed after 10 attempts: Rate exceeded'),
    );
    await expect(write).rejects.toThrow(
      'could not store the loan history of 2026-02-28: could not write 1 items to table risk-audit after 10 attempts: Rate exceeded',
    );
    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(1);
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(1);
  });
});
