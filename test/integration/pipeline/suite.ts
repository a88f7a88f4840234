import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createAwsClients } from '../../../shared/adapters/aws-clients.ts';
import { DynamoRiskStore } from '../../../shared/adapters/dynamo-risk-store.ts';
import { S3ArtifactStore } from '../../../shared/adapters/s3-artifact-store.ts';

/**
 * What a pipeline suite needs on the embedded stack: this process pointed at it (quiet
 * Powertools, a local sender and recipient), with a DynamoDB table of the suite's own so suites
 * never meet each other's loan ids (worker threads copy process.env, TABLE_NAME included, when
 * they start), and clients for checking what landed.
 */
export function pipelineSuite(table: string) {
  const env = inject('awsEnv');
  const endpoints = inject('localEndpoints');
  Object.assign(process.env, env, {
    REPORT_RECIPIENTS: 'risk-team@example.com',
    REPORT_SENDER: 'risk-audit@example.com',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TABLE_NAME: table,
  });
  const clients = createAwsClients(env);
  const bucket = env.BUCKET_NAME!;
  return {
    env,
    endpoints,
    clients,
    bucket,
    artifacts: new S3ArtifactStore(clients.s3, bucket),
    store: new DynamoRiskStore(clients.doc, table),
    /** Every item of the table that belongs to a date, keyed by pk|sk, without run-specific attributes. */
    itemsOf: async (date: string): Promise<Map<string, Record<string, unknown>>> => {
      const out = new Map<string, Record<string, unknown>>();
      let start: Record<string, unknown> | undefined;
      do {
        const page = await clients.doc.send(
          new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }),
        );
        for (const item of page.Items ?? []) {
          if (item.snapshotDate !== date || String(item.pk).startsWith('LEASE')) continue;
          // delivery: how that run's email went (a re-run may send none).
          const { runId, expiresAt, startedAt, finishedAt, timings, delivery, ...rest } = item;
          void runId;
          void delivery;
          void expiresAt;
          void startedAt;
          void finishedAt;
          void timings;
          out.set(`${item.pk}|${item.sk}`, rest);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return out;
    },
    /** Puts an object in the bucket (a tape part). */
    putFile: async (key: string, body: Uint8Array | string): Promise<void> => {
      await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
  };
}
