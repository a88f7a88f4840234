import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createS3Client } from '../../shared/adapters/aws-clients.ts';
import { tracer, withObservability } from '../../shared/adapters/observability.ts';
import { S3ArtifactStore } from '../../shared/adapters/s3-artifact-store.ts';
import { createSecretSource } from '../../shared/adapters/secret-source.ts';
import { loadReportLinkConfig, loadSecretsConfig } from '../../shared/config.ts';
import { openReportLink, reportLinkKeys } from '../../shared/use-cases/open-report-link.ts';

const config = loadReportLinkConfig();
const artifacts = new S3ArtifactStore(createS3Client(process.env), config.BUCKET_NAME);
// The keys are read from Secrets Manager when first needed and cached: current and previous.
const keys = reportLinkKeys(
  createSecretSource(loadSecretsConfig(), () => tracer.captureAWSv3Client(new SecretsManagerClient({}))),
);

/** The email's report link (a function URL): checks the signed link, redirects to the report. */
export const handler = withObservability(async (event: APIGatewayProxyEventV2) =>
  openReportLink(event.queryStringParameters, { artifacts, keys, now: new Date() }),
);
