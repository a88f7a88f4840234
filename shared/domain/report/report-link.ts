import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isReportHtmlKey } from '../../schema/tables.ts';

/**
 * Links to an archived report that last as long as the report is meant to be read (7 days), not as
 * long as the credentials of the function that sent it (an S3 presigned URL dies with them, often
 * within hours). The email links to the report-link function's URL with the object key, an expiry
 * and an HMAC of both under a secret key; the function checks them and redirects to a presigned
 * URL made on the spot. Only report pages can be named: the key must be a run's `report.html`.
 *
 * Each link names the key that signed it (`v`, a fingerprint of the key), and the check accepts
 * the current key and the one before the last rotation: a key rotated while links are out breaks
 * none of them (links older than one rotation and still unexpired are the exception, so rotate at
 * most once per link lifetime).
 */

function signature(key: string, expires: number, secret: string): string {
  return createHmac('sha256', secret).update(`${key}\n${expires}`).digest('base64url');
}

/** The id a link carries to name its signing key: a fingerprint that reveals nothing of the key. */
export function reportLinkKeyId(secret: string): string {
  return createHash('sha256')
    .update(`risk-audit report-link key\n${secret}`)
    .digest('base64url')
    .slice(0, 12);
}

/** A link to `key` through `baseUrl` (the report-link function's URL), good until `expiresAt`. */
export function signReportLink(baseUrl: string, key: string, expiresAt: Date, secret: string): string {
  if (!isReportHtmlKey(key)) throw new Error(`${key} is not a run's report page`);
  const expires = Math.floor(expiresAt.getTime() / 1000);
  const url = new URL(baseUrl);
  url.searchParams.set('k', key);
  url.searchParams.set('e', String(expires));
  url.searchParams.set('v', reportLinkKeyId(secret));
  url.searchParams.set('s', signature(key, expires, secret));
  return url.toString();
}

/**
 * Whether a link names a signing key none of `secrets` is (the key was rotated after the checking
 * function last read it): worth reading the keys again before refusing the link.
 */
export function namesUnknownKey(
  query: Readonly<Record<string, string | undefined>>,
  secrets: readonly string[],
): boolean {
  const id = query.v;
  return id !== undefined && !secrets.some((secret) => reportLinkKeyId(secret) === id);
}

/** What a link's query asks for, once checked: the report's key, or why it is refused. */
export type ReportLinkCheck = { ok: true; key: string } | { ok: false; status: 403 | 410; reason: string };

/**
 * Checks a link's query parameters (`k`, `e`, `v`, `s`) at `now` against the keys in force
 * (current first, then previous): the key the link names, or each of them for a link sent
 * before links named their key.
 */
export function checkReportLink(
  query: Readonly<Record<string, string | undefined>>,
  now: Date,
  secrets: readonly string[],
): ReportLinkCheck {
  const { k: key, e, v: keyId, s: given } = query;
  const expires = Number(e);
  if (key === undefined || given === undefined || !Number.isInteger(expires) || !isReportHtmlKey(key)) {
    return { ok: false, status: 403, reason: 'this is not a link to a report' };
  }
  const candidates =
    keyId === undefined ? secrets : secrets.filter((secret) => reportLinkKeyId(secret) === keyId);
  const actual = Buffer.from(given);
  const signed = candidates.some((secret) => {
    const expected = Buffer.from(signature(key, expires, secret));
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  });
  if (!signed) {
    return { ok: false, status: 403, reason: 'this report link is not valid' };
  }
  if (now.getTime() >= expires * 1000) {
    const date = new Date(expires * 1000).toISOString().replace('T', ' ').slice(0, 16);
    return {
      ok: false,
      status: 410,
      reason: `this report link expired on ${date} UTC; the report is in the archive, or re-send it by re-running the date`,
    };
  }
  return { ok: true, key };
}
