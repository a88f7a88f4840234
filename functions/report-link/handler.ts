import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createS3Client } from '../../shared/adapters/aws-clients.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { S3ArtifactStore } from '../../shared/adapters/s3-artifact-store.ts';
import { loadReportLinkConfig } from '../../shared/config.ts';
import { openReportLink } from '../../shared/use-cases/open-report-link.ts';

const config = loadReportLinkConfig();
const artifacts = new S3ArtifactStore(createS3Client(process.env), config.BUCKET_NAME);

/** The email's report link (a function URL): checks the signed link, redirects to the report. */
export const handler = withObservability(async (event: APIGatewayProxyEventV2) =>
  openReportLink(event.queryStringParameters, {
    artifacts,
    secret: config.REPORT_LINK_KEY,
    now: new Date(),
  }),
);
