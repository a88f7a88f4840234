import {
  type DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createDocumentClient,
  createDynamoClient,
  createS3Client,
  MAX_ATTEMPTS,
} from '../../shared/adapters/aws-clients.ts';
import { DynamoRiskStore } from '../../shared/adapters/dynamo-risk-store.ts';
import { StoreError } from '../../shared/errors.ts';

const ENV = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' };

/** DynamoDB's answer to a throttled call, as it comes over the wire (JSON 1.0 protocol). */
const THROTTLED = {
  statusCode: 400,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'Rate exceeded',
  }),
};
const RUN_ITEM = {
  statusCode: 200,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: JSON.stringify({ Item: { pk: { S: 'RUN#2026-02-28' }, sk: { S: 'RUN' }, runId: { S: 'run-1' } } }),
};

/**
 * An HTTP handler standing in for DynamoDB below the SDK's middleware (aws-sdk-client-mock
 * replaces `send`, and with it the retries this file is about): it answers each request in turn.
 */
function fakeDynamo(answers: (attempt: number) => typeof THROTTLED) {
  const requests: string[] = [];
  const handler = {
    handle: async (request: { headers: Record<string, string> }) => {
      requests.push(request.headers['x-amz-target'] ?? '');
      const answer = answers(requests.length);
      return {
        response: {
          statusCode: answer.statusCode,
          headers: answer.headers,
          body: new TextEncoder().encode(answer.body),
        },
      };
    },
  };
  return { handler, requests };
}

function dynamoWith(answers: (attempt: number) => typeof THROTTLED): {
  client: DynamoDBClient;
  requests: string[];
} {
  const { handler, requests } = fakeDynamo(answers);
  // Only the transport is replaced: the retry settings are createDynamoClient's own.
  return { client: createDynamoClient(ENV, { requestHandler: handler as never }), requests };
}

// The SDK's backoff is a uniform draw below its ceiling: a draw of 0 makes every wait 0 ms.
beforeEach(() => {
  vi.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('Function: createDynamoClient', () => {
  it('retries a throttled command by itself until it succeeds', async () => {
    // Prepare: throttled three times, then the item.
    const { client, requests } = dynamoWith((attempt) => (attempt <= 3 ? THROTTLED : RUN_ITEM));
    // Act
    const out = await client.send(
      new GetItemCommand({ TableName: 'risk-audit', Key: { pk: { S: 'RUN#2026-02-28' }, sk: { S: 'RUN' } } }),
    );
    // Assess
    expect(out.Item?.runId).toEqual({ S: 'run-1' });
    expect(requests).toEqual(Array(4).fill('DynamoDB_20120810.GetItem'));
    expect(out.$metadata.attempts).toBe(4);
  });

  it('gives up after its 10 attempts with the service error', async () => {
    const { client, requests } = dynamoWith(() => THROTTLED);
    const get = client.send(
      new GetItemCommand({ TableName: 'risk-audit', Key: { pk: { S: 'RUN#2026-02-28' }, sk: { S: 'RUN' } } }),
    );
    await expect(get).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    await expect(get).rejects.toMatchObject({ $metadata: { attempts: 10 } });
    expect(requests).toHaveLength(10);
  });

  it('is what the store gets: one store call, the client attempts, one sentence naming the operation', async () => {
    // Prepare: a store over the client as aws-deps builds it.
    const { client, requests } = dynamoWith(() => THROTTLED);
    const store = new DynamoRiskStore(createDocumentClient(client), 'risk-audit');
    // Act
    const read = store.getRun('2026-02-28');
    // Assess: 10 requests in all (not 10 per attempt of a wrapper of our own).
    await expect(read).rejects.toThrow(
      new StoreError('reading the run of 2026-02-28 failed after 10 attempts: Rate exceeded'),
    );
    expect(requests).toHaveLength(10);
  });
});

describe('Function: createS3Client', () => {
  it('retries a throttled S3 call the SDK default 3 times, then gives the error to the adapter', async () => {
    const requests: string[] = [];
    const handler = {
      handle: async (request: { method: string }) => {
        requests.push(request.method);
        return {
          response: {
            statusCode: 503,
            headers: { 'content-type': 'application/xml' },
            body: new TextEncoder().encode(
              '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
            ),
          },
        };
      },
    };
    const s3 = createS3Client(ENV, { requestHandler: handler as never });
    const list = s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'snapshots/2026-02-28/' }));
    await expect(list).rejects.toMatchObject({ name: 'SlowDown', $metadata: { attempts: MAX_ATTEMPTS.s3 } });
    expect(requests).toEqual(['GET', 'GET', 'GET']);
  });
});
