import { escapeHtml } from '../domain/report/escape.ts';
import { checkReportLink, namesUnknownKey } from '../domain/report/report-link.ts';
import type { ArtifactStore } from '../ports/artifact-store.ts';
import type { SecretSource } from '../ports/secret-source.ts';

/** The HTTP answer of the report-link function (a Lambda function URL response). */
export interface LinkResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Seconds the presigned URL behind a redirect is good for: it is followed at once. */
const REDIRECT_SECONDS = 300;

/** The report-link keys in force, current first; `refresh` reads them again from their source. */
export type LinkKeys = (options?: { refresh?: boolean }) => Promise<readonly string[]>;

/** Least time between two forced reads of the keys: a flood of made-up key ids costs one read a minute. */
export const KEY_REFRESH_INTERVAL_MS = 60_000;

/**
 * The keys a link may be signed with: the report-link key's current value and, after a
 * rotation, its previous one. A forced read (a link naming a key this function has not seen:
 * the key was rotated since its last read) happens at most once per KEY_REFRESH_INTERVAL_MS.
 */
export function reportLinkKeys(secrets: SecretSource, clock: () => number = Date.now): LinkKeys {
  let lastRefresh = Number.NEGATIVE_INFINITY;
  return async (options = {}) => {
    let refresh = false;
    if (options.refresh === true && clock() - lastRefresh >= KEY_REFRESH_INTERVAL_MS) {
      lastRefresh = clock();
      refresh = true;
    }
    const [current, previous] = await Promise.all([
      secrets.current('reportLinkKey', { refresh }),
      secrets.previous('reportLinkKey', { refresh }),
    ]);
    return previous === null || previous === current ? [current] : [current, previous];
  };
}

/**
 * Answers a click on a report link: a redirect to the report through a presigned URL made now,
 * or a short page saying why the link is refused (tampered: 403; expired: 410).
 */
export async function openReportLink(
  query: Readonly<Record<string, string | undefined>> | undefined,
  deps: { artifacts: Pick<ArtifactStore, 'presignGet'>; keys: LinkKeys; now: Date },
): Promise<LinkResponse> {
  const q = query ?? {};
  let keys = await deps.keys();
  if (namesUnknownKey(q, keys)) keys = await deps.keys({ refresh: true });
  const check = checkReportLink(q, deps.now, keys);
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
