import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadSecretsConfig, type RuntimeConfig } from '../config.ts';
import type { ReportRenderer } from '../ports/report-renderer.ts';
import { type AuditDeps, once } from '../use-cases/deps.ts';
import { createAwsClients } from './aws-clients.ts';
import { loadMapping, loadPolicy } from './config-files.ts';
import { DynamoRiskStore } from './dynamo-risk-store.ts';
import { nodeGzip } from './gzip.ts';
import { metrics, stepLogger, tracer } from './observability.ts';
import { jsonQuarantineSamples } from './report/quarantine-sample.ts';
import { S3ArtifactStore } from './s3-artifact-store.ts';
import { createSecretSource } from './secret-source.ts';
import { SesReportMailer } from './ses-report-mailer.ts';
import { nodeTapeDecoder } from './tape/read-tape.ts';
import { S3TapeSource } from './tape/s3-tape-source.ts';

/**
 * The workflow's ports on AWS (and on the embedded stack: only the endpoints differ). Built once
 * at module load, so a warm Lambda reuses its clients, policy and mapping.
 */
export function createAwsDeps(
  config: RuntimeConfig,
  options: { reports?: ReportRenderer; env?: NodeJS.ProcessEnv } = {},
): AuditDeps {
  const env = options.env ?? process.env;
  const clients = createAwsClients();
  // SECRET_SOURCE names where the keys come from: Secrets Manager on AWS, the environment locally.
  const secrets = createSecretSource(loadSecretsConfig(env), () =>
    tracer.captureAWSv3Client(new SecretsManagerClient({})),
  );
  tracer.captureAWSv3Client(clients.s3);
  tracer.captureAWSv3Client(clients.dynamodb);
  tracer.captureAWSv3Client(clients.ses);
  return {
    config,
    tapes: new S3TapeSource({ client: clients.s3, bucket: config.BUCKET_NAME }),
    tapeDecoder: nodeTapeDecoder,
    gzip: nodeGzip,
    artifacts: new S3ArtifactStore(clients.s3, config.BUCKET_NAME),
    store: new DynamoRiskStore(clients.doc, config.TABLE_NAME, {
      detailRetentionDays: config.DETAIL_RETENTION_DAYS,
    }),
    mailer: new SesReportMailer(clients.ses, {
      ...(config.SES_CONFIGURATION_SET === undefined
        ? {}
        : { configurationSetName: config.SES_CONFIGURATION_SET }),
    }),
    secrets,
    reports: options.reports ?? null,
    quarantineSamples: jsonQuarantineSamples,
    policy: once(() => loadPolicy(config.POLICY_FILE)),
    mapping: once(() => loadMapping(config.MAPPING_FILE)),
    now: () => new Date(),
    metrics: {
      count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
    },
    logger: stepLogger,
  };
}
