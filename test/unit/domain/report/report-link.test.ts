import { describe, expect, it } from 'vitest';
import { loadConfig, loadReportLinkConfig } from '../../../../shared/config.ts';
import {
  checkReportLink,
  namesUnknownKey,
  reportLinkKeyId,
  signReportLink,
} from '../../../../shared/domain/report/report-link.ts';
import { ConfigError } from '../../../../shared/errors.ts';
import type { SecretName, SecretReadOptions, SecretSource } from '../../../../shared/ports/secret-source.ts';
import {
  KEY_REFRESH_INTERVAL_MS,
  openReportLink,
  reportLinkKeys,
} from '../../../../shared/use-cases/open-report-link.ts';

const SECRET = 'k'.repeat(40);
const NEXT = 'n'.repeat(40);
const BASE = 'https://abc123.lambda-url.cn-north-1.on.aws/';
const KEY = 'runs/2026-11-25/report.html';
const SENT = new Date('2026-11-26T06:00:00Z');
const EXPIRES = new Date('2026-12-03T06:00:00Z');

/** The query parameters of a link, as the function URL event carries them. */
const queryOf = (link: string): Record<string, string> => Object.fromEntries(new URL(link).searchParams);

describe('Functions: signReportLink and checkReportLink', () => {
  const link = signReportLink(BASE, KEY, EXPIRES, SECRET);

  it('signs a link through the base URL, naming its key, that checks out until it expires', () => {
    // The key id is the first 12 base64url characters of SHA-256("risk-audit report-link key\n" + key).
    expect(reportLinkKeyId(SECRET)).toBe('1-wm9ToyQrJ9');
    expect(link.startsWith(`${BASE}?k=runs%2F2026-11-25%2Freport.html&e=1796277600&v=1-wm9ToyQrJ9&s=`)).toBe(
      true,
    );
    expect(checkReportLink(queryOf(link), SENT, [SECRET])).toEqual({ ok: true, key: KEY });
    // One second before the expiry still works; at the expiry it does not.
    expect(checkReportLink(queryOf(link), new Date(EXPIRES.getTime() - 1000), [SECRET]).ok).toBe(true);
    expect(checkReportLink(queryOf(link), EXPIRES, [SECRET])).toEqual({
      ok: false,
      status: 410,
      reason:
        'this report link expired on 2026-12-03 06:00 UTC; the report is in the archive, or re-send it by re-running the date',
    });
  });

  it('refuses a link whose key, expiry, key id or signature was changed, or signed with another key', () => {
    const q = queryOf(link);
    const refused = { ok: false, status: 403, reason: 'this report link is not valid' };
    expect(checkReportLink({ ...q, k: 'runs/2026-11-24/report.html' }, SENT, [SECRET])).toEqual(refused);
    expect(checkReportLink({ ...q, e: String(Number(q.e) + 86_400) }, SENT, [SECRET])).toEqual(refused);
    expect(checkReportLink({ ...q, s: `${q.s!.slice(0, -1)}A` }, SENT, [SECRET])).toEqual(refused);
    expect(checkReportLink({ ...q, s: 'short' }, SENT, [SECRET])).toEqual(refused);
    expect(checkReportLink({ ...q, v: reportLinkKeyId(NEXT) }, SENT, [SECRET, NEXT])).toEqual(refused);
    expect(checkReportLink(q, SENT, ['another-secret-of-enough-length-000000'])).toEqual(refused);
    expect(checkReportLink(q, SENT, [])).toEqual(refused);
  });

  it('accepts a link signed with the previous key after a rotation, and one that names no key', () => {
    // Rotation: NEXT is current, SECRET previous. A link sent before it still opens.
    expect(checkReportLink(queryOf(link), SENT, [NEXT, SECRET])).toEqual({ ok: true, key: KEY });
    const fresh = signReportLink(BASE, KEY, EXPIRES, NEXT);
    expect(checkReportLink(queryOf(fresh), SENT, [NEXT, SECRET])).toEqual({ ok: true, key: KEY });
    // A second rotation retires SECRET: its links stop working.
    expect(checkReportLink(queryOf(link), SENT, ['x'.repeat(40), NEXT]).ok).toBe(false);
    // Links sent before links named their key carry no `v`: each key in force is tried.
    const { v: _, ...legacy } = queryOf(link);
    expect(checkReportLink(legacy, SENT, [NEXT, SECRET])).toEqual({ ok: true, key: KEY });
  });

  it('tells when a link names a key the checker does not hold', () => {
    const q = queryOf(signReportLink(BASE, KEY, EXPIRES, NEXT));
    expect(namesUnknownKey(q, [SECRET])).toBe(true);
    expect(namesUnknownKey(q, [NEXT, SECRET])).toBe(false);
    const { v: _, ...legacy } = q;
    expect(namesUnknownKey(legacy, [SECRET])).toBe(false);
  });

  it('names report pages only, and refuses anything else before checking a signature', () => {
    const notALink = { ok: false, status: 403, reason: 'this is not a link to a report' };
    const q = queryOf(link);
    expect(checkReportLink({}, SENT, [SECRET])).toEqual(notALink);
    expect(checkReportLink({ ...q, k: 'snapshots/2026-11-25/tape.csv' }, SENT, [SECRET])).toEqual(notALink);
    expect(checkReportLink({ ...q, e: 'soon' }, SENT, [SECRET])).toEqual(notALink);
    expect(() => signReportLink(BASE, 'runs/2026-11-25/audit.json', EXPIRES, SECRET)).toThrow(
      "runs/2026-11-25/audit.json is not a run's report page",
    );
  });
});

/** A secret source over values a test sets, counting reads and forced reads. */
class FakeSecrets implements SecretSource {
  public currentValue = SECRET;
  public previousValue: string | null = null;
  public reads = 0;
  public forced = 0;
  // What a cached source would return until a forced read: the values at the last read.
  #seen: [string, string | null] | null = null;

  public async current(_name: SecretName, options: SecretReadOptions = {}): Promise<string> {
    return this.#read(options)[0];
  }

  public async previous(_name: SecretName, options: SecretReadOptions = {}): Promise<string | null> {
    return this.#read(options)[1];
  }

  #read(options: SecretReadOptions): [string, string | null] {
    this.reads++;
    if (options.refresh === true) this.forced++;
    if (this.#seen === null || options.refresh === true) this.#seen = [this.currentValue, this.previousValue];
    return this.#seen;
  }
}

describe('Function: reportLinkKeys', () => {
  it('gives the current key, then current and previous once the key was rotated', async () => {
    const secrets = new FakeSecrets();
    const keys = reportLinkKeys(secrets, () => 0);
    expect(await keys()).toEqual([SECRET]);
    secrets.currentValue = NEXT;
    secrets.previousValue = SECRET;
    expect(await keys({ refresh: true })).toEqual([NEXT, SECRET]);
  });

  it('forces a read at most once a minute, however many links name an unknown key', async () => {
    const secrets = new FakeSecrets();
    let now = 1_000_000;
    const keys = reportLinkKeys(secrets, () => now);
    await keys({ refresh: true });
    await keys({ refresh: true });
    now += KEY_REFRESH_INTERVAL_MS - 1;
    await keys({ refresh: true });
    expect(secrets.forced).toBe(2); // current and previous, once
    now += 1;
    await keys({ refresh: true });
    expect(secrets.forced).toBe(4);
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
  const keys = async () => [SECRET];

  it('redirects a valid link to a presigned URL made now, for five minutes', async () => {
    const link = signReportLink(BASE, KEY, EXPIRES, SECRET);
    const response = await openReportLink(queryOf(link), { artifacts, keys, now: SENT });
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
    const expired = await openReportLink(queryOf(link), { artifacts, keys, now: EXPIRES });
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('<p>This report link expired on 2026-12-03 06:00 UTC;');
    const forged = await openReportLink(undefined, { artifacts, keys, now: SENT });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('<p>This is not a link to a report.</p>');
    expect(presigned).toEqual([]);
  });

  it('opens a link signed with a key rotated in after its cache was filled, by reading the keys again', async () => {
    // Prepare: the checker has read the keys before the rotation.
    const secrets = new FakeSecrets();
    const linkKeys = reportLinkKeys(secrets, () => 0);
    expect(await linkKeys()).toEqual([SECRET]);
    secrets.currentValue = NEXT;
    secrets.previousValue = SECRET;
    const before = signReportLink(BASE, KEY, EXPIRES, SECRET);
    const after = signReportLink(BASE, KEY, EXPIRES, NEXT);

    // Act
    const fresh = await openReportLink(queryOf(after), { artifacts, keys: linkKeys, now: SENT });
    const old = await openReportLink(queryOf(before), { artifacts, keys: linkKeys, now: SENT });

    // Assess: both open; one forced read (current and previous) was needed.
    expect(fresh.statusCode).toBe(302);
    expect(old.statusCode).toBe(302);
    expect(secrets.forced).toBe(2);
  });
});

describe('Config: report links', () => {
  const base = { BUCKET_NAME: 'b', TABLE_NAME: 't' };

  it('needs a report-link key wherever the link URL is set', () => {
    expect(loadConfig(base).REPORT_LINK_BASE_URL).toBeUndefined();
    expect(
      loadConfig({ ...base, REPORT_LINK_BASE_URL: BASE, REPORT_LINK_KEY: SECRET }).REPORT_LINK_BASE_URL,
    ).toBe(BASE);
    expect(
      loadConfig({
        ...base,
        REPORT_LINK_BASE_URL: BASE,
        SECRET_SOURCE: 'secrets-manager',
        REPORT_LINK_KEY_SECRET_ARN:
          'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:ReportLinkKey-AbCdEf',
      }).REPORT_LINK_BASE_URL,
    ).toBe(BASE);
    expect(() => loadConfig({ ...base, REPORT_LINK_BASE_URL: BASE })).toThrow(
      'invalid environment: REPORT_LINK_BASE_URL needs the report-link key (REPORT_LINK_KEY_SECRET_ARN, or REPORT_LINK_KEY on the embedded stack)',
    );
    expect(() => loadConfig({ ...base, REPORT_LINK_BASE_URL: BASE, REPORT_LINK_KEY: 'too short' })).toThrow(
      ConfigError,
    );
  });

  it("reads the link function's bucket and insists on its key, naming what is missing", () => {
    expect(loadReportLinkConfig({ BUCKET_NAME: 'b', REPORT_LINK_KEY: SECRET })).toEqual({ BUCKET_NAME: 'b' });
    expect(() => loadReportLinkConfig({ BUCKET_NAME: 'b' })).toThrow(
      'invalid environment: the report-link function needs REPORT_LINK_KEY_SECRET_ARN (or REPORT_LINK_KEY on the embedded stack)',
    );
    expect(() => loadReportLinkConfig({ REPORT_LINK_KEY: SECRET })).toThrow(
      /invalid environment: BUCKET_NAME/,
    );
  });
});
