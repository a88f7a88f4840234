import { cleanText } from './format.ts';
import { buildReportSummary } from './summary.ts';
import { selectTrend } from './trend.ts';
import { nplTrend } from './trend-section.ts';
import type { ReportInput, ReportModel } from './types.ts';

/** File name of the watchlist attachment. */
export const WATCHLIST_FILE_NAME = 'watchlist.csv';
/** Findings the email shows; the full report has them all. */
export const EMAIL_FINDINGS = 5;

// An ISO timestamp reads better as `2026-12-03 06:00 UTC`; anything else is shown as given.
function formatExpiry(value: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) return cleanText(value, 40);
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * Builds the email, a one-minute read: verdict, what to do first, headline figures with their
 * change, each category's rating and reason, the most severe findings, the NPL trend and the link
 * to the full report, which holds everything else.
 */
export function buildReportModel(input: ReportInput): ReportModel {
  const audit = input.audit;
  const summary = buildReportSummary(input);
  const trend = nplTrend(selectTrend(audit, input.trend ?? []));
  const actions = summary.actions;
  return {
    subject: summary.subject,
    preheader: `${summary.summary} First: ${actions[0] ?? ''}`,
    verdict: summary.verdict,
    overall: audit.ratings.overall,
    snapshotDate: audit.snapshotDate,
    previousSnapshotDate: audit.previousSnapshotDate,
    status: audit.status,
    statusNote: summary.statusNote,
    summary: summary.summary,
    actions,
    headline: summary.headline,
    ratings: summary.ratings,
    findings: summary.findings.slice(0, EMAIL_FINDINGS),
    findingsTotal: summary.findings.length,
    trend,
    reportUrl: input.reportUrl,
    reportUrlNote: input.reportUrl
      ? `The full report (every section, the whole watchlist, the loans behind each breached rule, the quarantined rows, 30-run trends) is archived in S3${input.reportUrlExpiresAt ? `; this link works until ${formatExpiry(input.reportUrlExpiresAt)}` : ''}.`
      : null,
    watchlistCount: input.watchlist?.length ?? 0,
    watchlistFileName: WATCHLIST_FILE_NAME,
    footer: summary.footer,
  };
}
