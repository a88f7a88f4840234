import { createHash, createHmac } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../../shared/cli/lambda-context.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:cn-north-1:123456789012:secret:risk-audit/report-link-AbCdEf';
const CURRENT = 'c'.repeat(40);
const PREVIOUS = 'p'.repeat(40);
const REPORT = 'runs/2026-12-01/report.html';
const secrets = mockClient(SecretsManagerClient);

/** A link's query as the email carries it, built by hand from the scheme (HMAC-SHA256 of "key\nexpires"). */
function linkQuery(key: string, expires: Date, secret: string): Record<string, string> {
  const e = String(Math.floor(expires.getTime() / 1000));
  return {
    k: key,
    e,
    v: createHash('sha256').update(`risk-audit report-link key\n${secret}`).digest('base64url').slice(0, 12),
    s: createHmac('sha256', secret).update(`${key}\n${e}`).digest('base64url'),
  };
}

function click(query: Record<string, string>): APIGatewayProxyEventV2 {
  return { queryStringParameters: query } as unknown as APIGatewayProxyEventV2;
}

async function loadHandler() {
  vi.resetModules();
  return (await import('../../../functions/report-link/handler.ts')).handler;
}

describe('Function: report-link', () => {
  beforeEach(() => {
    secrets.reset();
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: CURRENT });
    secrets
      .on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSPREVIOUS' })
      .resolves({ SecretString: PREVIOUS });
    vi.stubEnv('BUCKET_NAME', 'risk-audit-data');
    vi.stubEnv('SECRET_SOURCE', 'secrets-manager');
    vi.stubEnv('REPORT_LINK_KEY_SECRET_ARN', SECRET_ARN);
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    vi.stubEnv('AWS_REGION', 'cn-north-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('redirects a signed link to a five-minute presigned URL of the report', async () => {
    const handler = await loadHandler();
    const answer = await handler(
      click(linkQuery(REPORT, new Date(Date.now() + 86_400_000), CURRENT)),
      lambdaContext('report-link'),
    );

    expect(answer.statusCode).toBe(302);
    const location = new URL(answer.headers.location!);
    expect(`${location.host}${location.pathname}`).toMatch(
      /risk-audit-data.*\/runs\/2026-12-01\/report\.html$/,
    );
    expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(answer.headers['cache-control']).toBe('no-store');
  });

  it('still opens a link signed with the key before the last rotation', async () => {
    const handler = await loadHandler();
    const answer = await handler(
      click(linkQuery(REPORT, new Date(Date.now() + 3_600_000), PREVIOUS)),
      lambdaContext('report-link'),
    );
    expect(answer.statusCode).toBe(302);
  });

  it('refuses a link whose report key was changed after signing (403)', async () => {
    const handler = await loadHandler();
    const query = {
      ...linkQuery(REPORT, new Date(Date.now() + 3_600_000), CURRENT),
      k: 'runs/2026-11-30/report.html',
    };
    const answer = await handler(click(query), lambdaContext('report-link'));
    expect(answer.statusCode).toBe(403);
    expect(answer.body).toContain('This report link is not valid.');
    expect(answer.headers.location).toBeUndefined();
  });

  it('answers 410 with the expiry date for a link past its expiry', async () => {
    const handler = await loadHandler();
    const answer = await handler(
      click(linkQuery(REPORT, new Date('2026-11-01T08:30:00Z'), CURRENT)),
      lambdaContext('report-link'),
    );
    expect(answer.statusCode).toBe(410);
    expect(answer.body).toContain('This report link expired on 2026-11-01 08:30 UTC');
  });

  it('refuses a request with no link at all (403), reading no report', async () => {
    const handler = await loadHandler();
    const answer = await handler(click({}), lambdaContext('report-link'));
    expect(answer.statusCode).toBe(403);
    expect(answer.body).toContain('This is not a link to a report.');
  });
});
