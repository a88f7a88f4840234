import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import sesLocalModule from 'aws-ses-v2-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFailureNotice, buildReport } from '../../../shared/adapters/report/build-report.ts';
import { SesReportMailer } from '../../../shared/adapters/ses-report-mailer.ts';
import { fixtureReportInput } from '../../fixtures/report/load.ts';

// A CommonJS module with `exports.default`: Node gives the exports object, vitest may unwrap it.
type StartSesLocal = typeof sesLocalModule.default;
const startSesLocal: StartSesLocal =
  typeof (sesLocalModule as unknown) === 'function'
    ? (sesLocalModule as unknown as StartSesLocal)
    : sesLocalModule.default;

interface StoredEmail {
  subject: string;
  from: string;
  destination: { to: string[] };
  body: { html?: string; text?: string };
  attachments: { filename?: string; contentType: string }[];
}

describe('Class: SesReportMailer against aws-ses-v2-local', () => {
  let server: Server;
  let endpoint: string;
  let mailer: SesReportMailer;

  beforeAll(async () => {
    // Its own emulator on a free port, so the test needs nothing else running.
    server = await startSesLocal({ host: '127.0.0.1', port: 0 });
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new SESv2Client({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    mailer = new SesReportMailer(client);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  async function stored(subject: string): Promise<StoredEmail | undefined> {
    const res = await fetch(`${endpoint}/store`);
    const body = (await res.json()) as { emails: StoredEmail[] };
    return body.emails.find((m) => m.subject === subject);
  }

  it('delivers the email with its HTML, text, inline trend chart and CSV', async () => {
    // Prepare
    const report = await buildReport(fixtureReportInput());

    // Act
    const out = await mailer.sendRaw(report.eml, ['cro@example.com', 'risk-team@example.com']);

    // Assess
    expect(out.messageId.length).toBeGreaterThan(0);
    const mail = await stored(report.subject);
    expect(mail?.from).toBe('risk-audit@example.com');
    expect(mail?.destination.to).toEqual(['cro@example.com, risk-team@example.com']);
    expect(mail?.body.html).toContain('What to do first');
    expect(mail?.body.text).toContain('WHAT TO DO FIRST');
    expect(mail?.attachments.map((a) => a.filename).sort()).toEqual(['trend.png', 'watchlist.csv']);
  });

  it('delivers the failure notice', async () => {
    const notice = await buildFailureNotice({
      snapshotDate: '2026-11-25',
      reason: 'no tape found by the 05:30 cutoff',
      rerunHint: 'npx risk-audit run --date 2026-11-25',
      from: 'risk-audit@example.com',
      to: ['cro@example.com'],
    });
    await mailer.sendRaw(notice.eml, ['cro@example.com']);
    const mail = await stored('[FAILED] Risk audit 2026-11-25 · no report today');
    expect(mail?.body.text).toContain('npx risk-audit run --date 2026-11-25');
  });
});
