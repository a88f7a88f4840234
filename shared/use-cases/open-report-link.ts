import { escapeHtml } from '../adapters/report/escape.ts';
import { checkReportLink } from '../domain/report/report-link.ts';
import type { ArtifactStore } from '../ports/artifact-store.ts';

/** The HTTP answer of the report-link function (a Lambda function URL response). */
export interface LinkResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Seconds the presigned URL behind a redirect is good for: it is followed at once. */
const REDIRECT_SECONDS = 300;

/**
 * Answers a click on a report link: a redirect to the report through a presigned URL made now,
 * or a short page saying why the link is refused (tampered: 403; expired: 410).
 */
export async function openReportLink(
  query: Readonly<Record<string, string | undefined>> | undefined,
  deps: { artifacts: Pick<ArtifactStore, 'presignGet'>; secret: string; now: Date },
): Promise<LinkResponse> {
  const check = checkReportLink(query ?? {}, deps.now, deps.secret);
  if (!check.ok) {
    const sentence = `${check.reason[0]!.toUpperCase()}${check.reason.slice(1)}.`;
    return {
      statusCode: check.status,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
      body: `<!doctype html><meta charset="utf-8"><title>Risk audit report</title><p>${escapeHtml(sentence)}</p>\n`,
    };
  }
  const link = await deps.artifacts.presignGet(check.key, REDIRECT_SECONDS);
  return {
    statusCode: 302,
    headers: { location: link.url, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    body: '',
  };
}
