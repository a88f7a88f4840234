import { buildReport, inlineImagesAsDataUris } from '../adapters/report/build-report.ts';
import type { AuditDocument, AuditResult } from '../domain/audit-result.ts';
import { addDays } from '../domain/calendar.ts';
import { signReportLink } from '../domain/report/report-link.ts';
import type { RunTrendPoint, WatchlistRow } from '../domain/report/types.ts';
import { buildWatchlistCsv } from '../domain/report/watchlist-csv.ts';
import type { PresignedLink } from '../ports/artifact-store.ts';
import { KEYS } from '../schema/tables.ts';
import type { AuditDeps, RunSummary, WatchlistEntry } from './deps.ts';
import { maskLoanId } from './finalize-run.ts';
import type { RunOutcome } from './workflow-types.ts';

/** Watchlist rows attached to the email; the full list is archived beside the run. */
export const EMAIL_WATCHLIST_ROWS = 2_000;

/** What the report step produced (paths for the CLI, the message id for the run log). */
export interface SentReport {
  messageId: string | null;
  subject: string;
  htmlKey: string;
  emlKey: string;
  bytes: number;
}

function trendPoint(run: RunSummary): RunTrendPoint | null {
  if (run.status === 'running' || run.status === 'failed' || run.overall === null) return null;
  return {
    snapshotDate: run.snapshotDate,
    status: run.status,
    nplRatio: run.nplRatio,
    totalOutstanding: run.totalOutstanding ?? 0,
    expectedLoss: run.expectedLoss ?? 0,
    overall: run.overall,
    breaches: run.breaches ?? 0,
  };
}

/** The email's watchlist row: masked loan reference, no borrower id, income or age. */
export function watchlistRow(e: WatchlistEntry): WatchlistRow {
  return {
    loanRef: maskLoanId(e.loanId),
    grade: e.grade,
    score: e.score,
    pd: e.pd,
    dpdBucket: e.dpdBucket as WatchlistRow['dpdBucket'],
    classification: e.classification as WatchlistRow['classification'],
    outstanding: e.outstanding,
    product: e.product,
    region: e.region,
    industry: e.industry,
    flags: e.flags,
    reasons: e.reasons,
  };
}

async function readAudit(deps: AuditDeps, date: string): Promise<AuditDocument | null> {
  const bytes = await deps.artifacts.get(KEYS.audit(date));
  return bytes === null ? null : (JSON.parse(Buffer.from(bytes).toString('utf8')) as AuditDocument);
}

/**
 * Step 4: renders the audit email from audit.json, the previous day's audit, the last 30 runs and
 * the watchlist; archives the full report beside the run and sends it to the recipients.
 */
export async function sendReport(outcome: RunOutcome, deps: AuditDeps): Promise<SentReport> {
  const date = outcome.snapshotDate;
  const audit = (await readAudit(deps, date)) as AuditResult | null;
  if (audit === null || audit.status === 'failed') throw new Error(`no finished audit for ${date} to report`);
  const before = audit.previousSnapshotDate ? await readAudit(deps, audit.previousSnapshotDate) : null;
  const previous = before && before.status !== 'failed' ? (before as AuditResult) : null;
  const runs = await deps.store.listRuns(30);
  const trend = runs.map(trendPoint).filter((p): p is RunTrendPoint => p !== null && p.snapshotDate <= date);
  const fullWatchlist = (await deps.store.getWatchlist(date, deps.config.WATCHLIST_LIMIT)).map(watchlistRow);
  // The whole list goes to S3 (one click away); the mail carries the riskiest rows, keeping it under 1 MB.
  await deps.artifacts.put(
    KEYS.watchlistCsv(date),
    buildWatchlistCsv(fullWatchlist),
    'text/csv; charset=utf-8',
  );
  const watchlist = fullWatchlist.slice(0, EMAIL_WATCHLIST_ROWS);
  const htmlKey = KEYS.reportHtml(date);
  const emlKey = KEYS.reportEml(date);
  const now = deps.now();
  const link = await reportLink(deps, htmlKey, now);
  const sources: Record<string, string> = {};
  for (const f of audit.findings) if (f.source) sources[f.code] = f.source;
  const report = await buildReport({
    audit,
    previous,
    trend,
    watchlist,
    watchlistTotal: fullWatchlist.length,
    reportUrl: link.url,
    reportUrlExpiresAt: link.expiresAt.toISOString(),
    sources,
    runId: outcome.runId,
    from: deps.config.REPORT_SENDER,
    to: deps.config.REPORT_RECIPIENTS,
    generatedAt: now,
  });
  await deps.artifacts.put(
    htmlKey,
    inlineImagesAsDataUris(report.html, report.images),
    'text/html; charset=utf-8',
  );
  await deps.artifacts.put(emlKey, report.eml, 'message/rfc822');
  await deps.artifacts.put(KEYS.reportText(date), report.text, 'text/plain; charset=utf-8');
  let messageId: string | null = null;
  if (deps.config.REPORT_RECIPIENTS.length > 0) {
    messageId = (await deps.mailer.sendRaw(report.eml, deps.config.REPORT_RECIPIENTS)).messageId;
    deps.metrics.count('ReportSent');
  }
  return { messageId, subject: report.subject, htmlKey, emlKey, bytes: report.eml.byteLength };
}

/**
 * The email's link to the archived report: signed for the report-link function when one is
 * deployed (good for REPORT_LINK_EXPIRY_SECONDS), else presigned on S3 (good until the sending
 * function's credentials expire, if sooner; the email states the real expiry either way).
 */
async function reportLink(deps: AuditDeps, htmlKey: string, now: Date): Promise<PresignedLink> {
  const { REPORT_LINK_BASE_URL: base, REPORT_LINK_EXPIRY_SECONDS: seconds } = deps.config;
  if (base === undefined) return deps.artifacts.presignGet(htmlKey, seconds);
  const expiresAt = new Date(now.getTime() + seconds * 1000);
  // Signed with the key's current value; the link names that key, so a rotation breaks nothing.
  const key = await deps.secrets.current('reportLinkKey');
  return { url: signReportLink(base, htmlKey, expiresAt, key), expiresAt };
}

/** The date to re-run, as a CLI command, shown in failure notices. */
export function rerunHint(snapshotDate: string | null): string {
  const date = snapshotDate ?? addDays(new Date().toISOString().slice(0, 10), -1);
  return `risk-audit invoke --date ${date} (or start the state machine with {"snapshotDate": "${date}"})`;
}
