import type { AuditDocument, AuditResult, Finding } from '../domain/audit-result.ts';
import { addDays } from '../domain/calendar.ts';
import { reportSources } from '../domain/report/compliance-section.ts';
import { inlineImagesAsDataUris } from '../domain/report/inline-images.ts';
import { maskLoanId } from '../domain/report/mask.ts';
import { signReportLink } from '../domain/report/report-link.ts';
import { noTrendFigures, type RunTrendPoint, TREND_RUNS } from '../domain/report/trend.ts';
import type { BreachRow, ReportInput, WatchlistRow } from '../domain/report/types.ts';
import { buildWatchlistCsv } from '../domain/report/watchlist-csv.ts';
import type { PresignedLink } from '../ports/artifact-store.ts';
import type { RunDelivery } from '../ports/risk-store.ts';
import { AuditDocumentSchema } from '../schema/audit-document.ts';
import { KEYS } from '../schema/tables.ts';
import { type AuditDeps, type RunSummary, reportRenderer, type WatchlistEntry } from './deps.ts';
import { readOptionalArtifact } from './read-artifact.ts';
import type { RunOutcome } from './workflow-types.ts';

/** Watchlist rows attached to the email; the full report lists the whole watchlist. */
export const EMAIL_WATCHLIST_ROWS = 2_000;
/** Loans per breached rule the full report lists (largest outstanding first); audit.json has every count. */
export const REPORT_BREACHES_PER_RULE = 1_000;

/** What the report step produced (paths for the CLI, the message id for the run log). */
export interface SentReport {
  messageId: string | null;
  subject: string;
  htmlKey: string;
  emlKey: string;
  bytes: number;
}

/**
 * A stored run as the trend reads it: the figures its record keeps under the trend's own names
 * (finishedSummary writes them from trendFiguresOf, as today's audit is read); a figure a record
 * from an earlier release lacks is unknown. A failed run is a point without figures (a gap); a
 * run still in progress is left out.
 */
export function trendPointOfRun(run: RunSummary): RunTrendPoint | null {
  if (run.status === 'running') return null;
  if (run.status === 'failed' || run.overall === null)
    return { snapshotDate: run.snapshotDate, status: 'failed', overall: null, ...noTrendFigures() };
  return {
    snapshotDate: run.snapshotDate,
    status: run.status,
    overall: run.overall,
    nplRatio: run.nplRatio ?? null,
    pastDue30Share: run.pastDue30Share ?? null,
    expectedLoss: run.expectedLoss ?? null,
    totalOutstanding: run.totalOutstanding ?? null,
    loansInBreach: run.loansInBreach ?? null,
    rulesBreached: run.rulesBreached ?? null,
    largestPsi: run.largestPsi ?? null,
    quarantineRate: run.quarantineRate ?? null,
  };
}

/** A watchlist row of the reports: masked loan reference, no borrower id, income or age. */
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

function readAudit(deps: AuditDeps, date: string): Promise<AuditDocument | null> {
  return readOptionalArtifact(deps.artifacts, KEYS.audit(date), AuditDocumentSchema, `audit of ${date}`);
}

/** The loans behind each breached rule, from the breach index, masked. */
async function breachRows(deps: AuditDeps, audit: AuditResult): Promise<BreachRow[]> {
  const rows: BreachRow[] = [];
  const rules = Object.entries(audit.compliance.rules)
    .filter(([, r]) => r.severity === 'breach' && r.loans > 0)
    .sort((a, b) => b[1].outstanding - a[1].outstanding || (a[0] < b[0] ? -1 : 1));
  for (const [code] of rules) {
    for (const b of await deps.store.getBreaches(code, audit.snapshotDate, REPORT_BREACHES_PER_RULE)) {
      rows.push({
        ruleCode: b.ruleCode,
        loanRef: maskLoanId(b.loanId),
        borrowerRef: b.borrowerRef,
        grade: b.grade,
        outstanding: b.outstanding,
      });
    }
  }
  return rows;
}

/**
 * Step 4: renders the email (the one-minute summary) and the full report from audit.json, the
 * previous day's audit, the last 30 runs, the watchlist, the breach index and the masked sample
 * of the quarantined rows (merge-audit writes it: this step reads no tape); archives both beside the run (the full report as runs/DATE/report.html, where the
 * email's link points) and sends the email to the recipients.
 */
export async function sendReport(outcome: RunOutcome, deps: AuditDeps): Promise<SentReport> {
  const date = outcome.snapshotDate;
  const audit = (await readAudit(deps, date)) as AuditResult | null;
  if (audit === null || audit.status === 'failed') throw new Error(`no finished audit for ${date} to report`);
  const before = audit.previousSnapshotDate ? await readAudit(deps, audit.previousSnapshotDate) : null;
  const previous = before && before.status !== 'failed' ? (before as AuditResult) : null;
  const runs = await deps.store.listRuns(TREND_RUNS);
  // Reports of earlier dates that could not be sent since the last one that was: findings here.
  const reported = { ...audit, findings: [...audit.findings, ...undeliveredReportFindings(runs, date)] };
  const trend = runs
    .map(trendPointOfRun)
    .filter((p): p is RunTrendPoint => p !== null && p.snapshotDate <= date);
  const watchlist = (await deps.store.getWatchlist(date, deps.config.WATCHLIST_LIMIT)).map(watchlistRow);
  await deps.artifacts.put(KEYS.watchlistCsv(date), buildWatchlistCsv(watchlist), 'text/csv; charset=utf-8');
  const htmlKey = KEYS.reportHtml(date);
  const emlKey = KEYS.reportEml(date);
  const now = deps.now();
  const link = await reportLink(deps, htmlKey, now);
  const sources = reportSources(audit);
  const quarantine = await deps.quarantineSamples.readStored(deps.artifacts, date);
  const input: ReportInput = {
    audit: reported,
    previous,
    trend,
    watchlist,
    watchlistTotal: watchlist.length,
    breaches: await breachRows(deps, audit),
    breachesPerRule: REPORT_BREACHES_PER_RULE,
    ...(quarantine ? { quarantine } : {}),
    reportUrl: link.url,
    reportUrlExpiresAt: link.expiresAt.toISOString(),
    sources,
    runId: outcome.runId,
    from: deps.config.REPORT_SENDER,
    to: deps.config.REPORT_RECIPIENTS,
    generatedAt: now,
  };
  const full = await reportRenderer(deps).buildFullReport(input);
  await deps.artifacts.put(htmlKey, full.html, 'text/html; charset=utf-8');
  // The mail carries the riskiest rows, keeping it under 1 MB; the full report lists them all.
  const report = await reportRenderer(deps).buildReport({
    ...input,
    watchlist: watchlist.slice(0, EMAIL_WATCHLIST_ROWS),
  });
  await deps.artifacts.put(emlKey, report.eml, 'message/rfc822');
  await deps.artifacts.put(KEYS.reportText(date), report.text, 'text/plain; charset=utf-8');
  await deps.artifacts.put(
    KEYS.emailHtml(date),
    inlineImagesAsDataUris(report.html, report.images),
    'text/html; charset=utf-8',
  );
  let messageId: string | null = null;
  if (deps.config.REPORT_RECIPIENTS.length > 0) {
    messageId = (await deps.mailer.sendRaw(report.eml, deps.config.REPORT_RECIPIENTS)).messageId;
    deps.metrics.count('ReportSent');
  }
  await recordDelivery(deps, outcome, {
    status: messageId === null ? 'none' : 'sent',
    at: deps.now().toISOString(),
    messageId,
  });
  return { messageId, subject: report.subject, htmlKey, emlKey, bytes: report.eml.byteLength };
}

/** Notes on the run's record how its report went (the record of this run only: a re-run may have replaced it). */
async function recordDelivery(deps: AuditDeps, outcome: RunOutcome, delivery: RunDelivery): Promise<void> {
  const run = await deps.store.getRun(outcome.snapshotDate);
  if (run !== null && run.runId === outcome.runId) await deps.store.recordRun({ ...run, delivery });
}

/**
 * Findings of the reports before `date` that were not delivered, newest first, back to the last
 * one that was: a finished audit whose email failed is named in the next report that goes out
 * (its full report is archived beside its run).
 */
export function undeliveredReportFindings(runs: readonly RunSummary[], date: string): Finding[] {
  const findings: Finding[] = [];
  for (const run of [...runs].sort((a, b) => (a.snapshotDate < b.snapshotDate ? 1 : -1))) {
    if (run.snapshotDate >= date || run.status === 'failed' || run.status === 'running') continue;
    if (run.delivery?.status !== 'failed') {
      if (run.delivery?.status === 'sent') break;
      continue;
    }
    findings.push({
      category: 'technical',
      severity: 'medium',
      code: 'REPORT_NOT_DELIVERED',
      message: `the report of ${run.snapshotDate} was not delivered (${run.delivery.error ?? 'no reason given'}); its audit stands and its full report is archived at ${KEYS.reportHtml(run.snapshotDate)}`,
      value: run.snapshotDate,
      threshold: null,
    });
  }
  return findings;
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

/**
 * The date to re-run, as a CLI command, shown in failure notices: a re-run (never folded into an
 * earlier start of the same date by start-audit's idempotency).
 */
export function rerunHint(snapshotDate: string | null): string {
  const date = snapshotDate ?? addDays(new Date().toISOString().slice(0, 10), -1);
  return `risk-audit invoke --date ${date} --rerun (or start the state machine with {"snapshotDate": "${date}", "trigger": "rerun"})`;
}
