import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../../shared/adapters/aws-clients.ts';
import { fetchLocalEmails } from '../../../shared/local/local-stack.ts';
import { IDEMPOTENCY_TABLE, LOCAL_BUCKET, RISK_TABLE } from '../../../shared/schema/tables.ts';

const env = inject('awsEnv');
const endpoints = inject('localEndpoints');
const clients = createAwsClients(env);

afterAll(() => destroyAwsClients(clients));

describe('Function: startLocalStack', () => {
  it('hands out 127.0.0.1 endpoints and the names of the bucket and tables', () => {
    expect(env.AWS_ENDPOINT_URL_S3).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.AWS_ENDPOINT_URL_SESV2).toBe(endpoints.ses);
    expect(env.BUCKET_NAME).toBe(LOCAL_BUCKET);
    expect(env.TABLE_NAME).toBe(RISK_TABLE.localName);
    expect(env.IDEMPOTENCY_TABLE_NAME).toBe(IDEMPOTENCY_TABLE.localName);
  });

  it('stores an S3 object and reads the same bytes back', async () => {
    // Prepare
    const body = 'loan_id,outstanding_principal\nL1,100.5\n';
    // Act
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: LOCAL_BUCKET,
        Key: 'it/local-stack.csv',
        Body: body,
        ContentType: 'text/csv',
      }),
    );
    const got = await clients.s3.send(
      new GetObjectCommand({ Bucket: LOCAL_BUCKET, Key: 'it/local-stack.csv' }),
    );
    // Assess
    expect(await got.Body?.transformToString()).toBe(body);
    expect(got.ContentType).toBe('text/csv');
  });

  it('creates the risk table with its keys, both GSIs and TTL on expiresAt', async () => {
    const described = await clients.dynamodb.send(
      new DescribeTableCommand({ TableName: RISK_TABLE.localName }),
    );
    const table = described.Table;
    expect(table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const indexes = (table?.GlobalSecondaryIndexes ?? [])
      .map((gsi) => ({
        name: gsi.IndexName,
        keys: gsi.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`),
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expect(indexes).toEqual([
      { name: 'gsi1', keys: ['gsi1pk:HASH', 'gsi1sk:RANGE'] },
      { name: 'gsi2', keys: ['gsi2pk:HASH', 'gsi2sk:RANGE'] },
    ]);
    const ttl = await clients.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: RISK_TABLE.localName }),
    );
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('ENABLED');
  });

  it('creates the idempotency table keyed by id with TTL on expiration', async () => {
    const described = await clients.dynamodb.send(
      new DescribeTableCommand({ TableName: IDEMPOTENCY_TABLE.localName }),
    );
    expect(described.Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    const ttl = await clients.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: IDEMPOTENCY_TABLE.localName }),
    );
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiration');
  });

  it('delivers an SES v2 email into the local store', async () => {
    // Prepare
    const subject = `local stack check ${Date.now()}`;
    // Act
    const sent = await clients.ses.send(
      new SendEmailCommand({
        FromEmailAddress: 'risk-audit@example.com',
        Destination: { ToAddresses: ['officer@example.com'] },
        Content: { Simple: { Subject: { Data: subject }, Body: { Text: { Data: 'hello' } } } },
      }),
    );
    const emails = await fetchLocalEmails({ endpoints });
    // Assess
    const mine = emails.filter((e) => e.subject === subject);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.messageId).toBe(sent.MessageId);
    expect(mine[0]?.destination.to).toEqual(['officer@example.com']);
    expect(mine[0]?.body.text).toBe('hello');
  });
});
