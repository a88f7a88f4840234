import { breachesSection } from './breaches-section.ts';
import { complianceSection } from './compliance-section.ts';
import { concentrationSection } from './concentration-section.ts';
import { creditSection } from './credit-section.ts';
import { dataQualitySection } from './data-quality-section.ts';
import { findingsSection } from './findings-section.ts';
import { liquiditySection } from './liquidity-section.ts';
import { WATCHLIST_FILE_NAME } from './model.ts';
import { quarantineSection } from './quarantine-section.ts';
import { buildReportSummary, sortFindings } from './summary.ts';
import { selectTrend } from './trend.ts';
import { trendSection } from './trend-section.ts';
import type { FullReportModel, ReportInput } from './types.ts';
import { vulnerabilitySection } from './vulnerability-section.ts';
import { watchlistSection } from './watchlist-section.ts';

/**
 * Builds the full report, one click from the email: the same opening, then every section with
 * what the email leaves out (every finding, 30-run trends, the whole watchlist, the loans behind
 * each breached rule, the quarantined rows, every concentration list, each column's profile, the
 * rules with their sources).
 */
export function buildFullReportModel(input: ReportInput): FullReportModel {
  const audit = input.audit;
  // The tape's currency (audit.json of an earlier release: CNY) unless the caller names one.
  const currency = input.currency ?? audit.portfolio.currency ?? 'CNY';
  const summary = buildReportSummary(input);
  const watchlist = input.watchlist ?? [];
  return {
    title: `Risk audit ${audit.snapshotDate}: full report`,
    verdict: summary.verdict,
    overall: audit.ratings.overall,
    snapshotDate: audit.snapshotDate,
    status: audit.status,
    statusNote: summary.statusNote,
    summary: summary.summary,
    actions: summary.actions,
    headline: summary.headline,
    ratings: summary.ratings,
    sections: [
      findingsSection(summary.findings),
      trendSection(selectTrend(audit, input.trend ?? []), currency),
      creditSection(audit, currency),
      complianceSection(
        audit,
        sortFindings(audit.findings),
        input.sources ?? {},
        input.rulePack ?? null,
        currency,
      ),
      breachesSection(audit, input.breaches ?? [], input.breachesPerRule, currency),
      concentrationSection(audit, currency),
      vulnerabilitySection(audit, currency),
      watchlistSection(watchlist, input.watchlistTotal ?? watchlist.length, WATCHLIST_FILE_NAME, currency),
      dataQualitySection(audit, input.quarantine),
      quarantineSection(input.quarantine),
      liquiditySection(audit, currency),
    ],
    footer: summary.footer,
  };
}
