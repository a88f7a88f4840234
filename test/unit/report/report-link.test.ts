import { describe, expect, it } from 'vitest';
import { loadConfig, loadReportLinkConfig } from '../../../shared/config.ts';
import { checkReportLink, signReportLink } from '../../../shared/domain/report/report-link.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { openReportLink } from '../../../shared/use-cases/open-report-link.ts';

const SECRET = 'k'.repeat(40);
const BASE = 'https://abc123.lambda-url.cn-north-1.on.aws/';
const KEY = 'runs/2026-11-25/report.html';
const SENT = new Date('2026-11-26T06:00:00Z');
const EXPIRES = new Date('2026-12-03T06:00:00Z');

/** The query parameters of a link, as the function URL event carries them. */
const queryOf = (link: string): Record<string, string> => Object.fromEntries(new URL(link).searchParams);

describe('Functions: signReportLink and checkReportLink', () => {
  const link = signReportLink(BASE, KEY, EXPIRES, SECRET);

  it('signs a link through the base URL that checks out until it expires', () => {
    expect(link.startsWith(`${BASE}?k=runs%2F2026-11-25%2Freport.html&e=1796277600&s=`)).toBe(true);
    expect(checkReportLink(queryOf(link), SENT, SECRET)).toEqual({ ok: true, key: KEY });
    // One second before the expiry still works; at the expiry it does not.
    expect(checkReportLink(queryOf(link), new Date(EXPIRES.getTime() - 1000), SECRET).ok).toBe(true);
    expect(checkReportLink(queryOf(link), EXPIRES, SECRET)).toEqual({
      ok: false,
      status: 410,
      reason:
        'this report link expired on 2026-12-03 06:00 UTC; the report is in the archive, or re-send it by re-running the date',
    });
  });

  it('refuses a link whose key, expiry or signature was changed, or signed with another key', () => {
    const q = queryOf(link);
    const refused = { ok: false, status: 403, reason: 'this report link is not valid' };
    expect(checkReportLink({ ...q, k: 'runs/2026-11-24/report.html' }, SENT, SECRET)).toEqual(refused);
    expect(checkReportLink({ ...q, e: String(Number(q.e) + 86_400) }, SENT, SECRET)).toEqual(refused);
    expect(checkReportLink({ ...q, s: `${q.s!.slice(0, -1)}A` }, SENT, SECRET)).toEqual(refused);
    expect(checkReportLink({ ...q, s: 'short' }, SENT, SECRET)).toEqual(refused);
    expect(checkReportLink(q, SENT, 'another-secret-of-enough-length-000000')).toEqual(refused);
  });

  it('names report pages only, and refuses anything else before checking a signature', () => {
    const notALink = { ok: false, status: 403, reason: 'this is not a link to a report' };
    const q = queryOf(link);
    expect(checkReportLink({}, SENT, SECRET)).toEqual(notALink);
    expect(checkReportLink({ ...q, k: 'snapshots/2026-11-25/tape.csv' }, SENT, SECRET)).toEqual(notALink);
    expect(checkReportLink({ ...q, e: 'soon' }, SENT, SECRET)).toEqual(notALink);
    expect(() => signReportLink(BASE, 'runs/2026-11-25/audit.json', EXPIRES, SECRET)).toThrow(
      "runs/2026-11-25/audit.json is not a run's report page",
    );
  });
});

describe('Function: openReportLink', () => {
  const presigned: [string, number][] = [];
  const artifacts = {
    presignGet: async (key: string, seconds: number) => {
      presigned.push([key, seconds]);
      return { url: `https://bucket.s3.example/${key}?X-Amz-Signature=x`, expiresAt: SENT };
    },
  };

  it('redirects a valid link to a presigned URL made now, for five minutes', async () => {
    const link = signReportLink(BASE, KEY, EXPIRES, SECRET);
    const response = await openReportLink(queryOf(link), { artifacts, secret: SECRET, now: SENT });
    expect(response).toEqual({
      statusCode: 302,
      headers: {
        location: `https://bucket.s3.example/${KEY}?X-Amz-Signature=x`,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      },
      body: '',
    });
    expect(presigned).toEqual([[KEY, 300]]);
  });

  it('answers an expired or forged link with a page saying why, and presigns nothing', async () => {
    presigned.length = 0;
    const link = signReportLink(BASE, KEY, EXPIRES, SECRET);
    const expired = await openReportLink(queryOf(link), { artifacts, secret: SECRET, now: EXPIRES });
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('<p>This report link expired on 2026-12-03 06:00 UTC;');
    const forged = await openReportLink(undefined, { artifacts, secret: SECRET, now: SENT });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('<p>This is not a link to a report.</p>');
    expect(presigned).toEqual([]);
  });
});

describe('Config: report links', () => {
  const base = { BUCKET_NAME: 'b', TABLE_NAME: 't' };

  it('takes the link URL and key together, or neither', () => {
    expect(loadConfig(base).REPORT_LINK_BASE_URL).toBeUndefined();
    expect(loadConfig({ ...base, REPORT_LINK_BASE_URL: BASE, REPORT_LINK_KEY: SECRET }).REPORT_LINK_KEY).toBe(
      SECRET,
    );
    expect(() => loadConfig({ ...base, REPORT_LINK_BASE_URL: BASE })).toThrow(
      'invalid environment: REPORT_LINK_BASE_URL and REPORT_LINK_KEY go together',
    );
    expect(() => loadConfig({ ...base, REPORT_LINK_KEY: 'too short' })).toThrow(ConfigError);
  });

  it("reads the link function's bucket and key, naming what is missing", () => {
    expect(loadReportLinkConfig({ BUCKET_NAME: 'b', REPORT_LINK_KEY: SECRET })).toEqual({
      BUCKET_NAME: 'b',
      REPORT_LINK_KEY: SECRET,
    });
    expect(() => loadReportLinkConfig({ BUCKET_NAME: 'b' })).toThrow(/invalid environment: REPORT_LINK_KEY/);
  });
});
